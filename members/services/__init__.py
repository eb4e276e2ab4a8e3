"""Every write to members data: one function per business act, keyword-only, with an actor.

Each act runs in one transaction, validates with ``full_clean`` and leaves a history row naming
the actor and the reason. Bad input raises ``ValidationError`` with nothing saved; a role that
may not act raises ``PermissionDenied``.

One module per sub-domain; every public name is re-exported here, so ``members.services.X``
(and ``services.X`` after ``from members import services``) keeps working.
"""

from members.services.access import (
    record_access,
    record_access_bulk,
    record_access_set,
    record_search,
    record_sensitive_shown,
    sensitive_value,
)
from members.services.common import (
    require_perm,
)
from members.services.consent import (
    ART5_PROTECTED_PURPOSES,
    create_consent_version,
    current_consent_version,
    end_consented_uses,
    end_consented_uses_due,
    publish_consent_version,
    refused_required_purposes,
    set_consent,
)
from members.services.contracts import (
    apply_for_contract,
    decide_application,
    end_contract,
    next_contract_no,
)
from members.services.erasure import (
    ANONYMIZED_VALUES,
    ERASABLE,
    ERASED_PAYLOAD,
    ERASED_TEXT,
    anonymize_member,
    erasable_records,
    erase_member_data,
    erase_member_traces,
    stop_provision,
)
from members.services.holds import (
    place_legal_hold,
    release_legal_hold,
)
from members.services.member import (
    BULK_MEMBER_NO_START,
    FIRST_MEMBER_NO,
    MEMBER_EDITABLE_FIELDS,
    MEMBER_NO_SEQUENCE,
    NOTIFIABLE_FIELDS,
    create_member,
    next_member_no,
    update_member,
)
from members.services.partners import (
    DELIVER_PARTNER_SYNC_TASK,
    PARTNER_STOPS,
    SHARED_SECRET_BYTES,
    new_shared_secret,
    partner_affiliates,
    queue_delivery,
    queue_partner_stop,
    queue_partner_sync,
    rotate_affiliate_secret,
    save_affiliate,
)
from members.services.provision import (
    PROVISION_RECORD_YEARS,
    entrust,
    record_provision,
    record_provisions_bulk,
    save_contractor,
)
from members.services.records import (
    add_contact_record,
    add_financial_declaration,
    add_identity_document,
    add_payment_record,
    add_public_record,
)

__all__ = [
    "ANONYMIZED_VALUES",
    "ART5_PROTECTED_PURPOSES",
    "BULK_MEMBER_NO_START",
    "DELIVER_PARTNER_SYNC_TASK",
    "ERASABLE",
    "ERASED_PAYLOAD",
    "ERASED_TEXT",
    "FIRST_MEMBER_NO",
    "MEMBER_EDITABLE_FIELDS",
    "MEMBER_NO_SEQUENCE",
    "NOTIFIABLE_FIELDS",
    "PARTNER_STOPS",
    "PROVISION_RECORD_YEARS",
    "SHARED_SECRET_BYTES",
    "add_contact_record",
    "add_financial_declaration",
    "add_identity_document",
    "add_payment_record",
    "add_public_record",
    "anonymize_member",
    "apply_for_contract",
    "create_consent_version",
    "create_member",
    "current_consent_version",
    "decide_application",
    "end_consented_uses",
    "end_consented_uses_due",
    "end_contract",
    "entrust",
    "erasable_records",
    "erase_member_data",
    "erase_member_traces",
    "new_shared_secret",
    "next_contract_no",
    "next_member_no",
    "partner_affiliates",
    "place_legal_hold",
    "publish_consent_version",
    "queue_delivery",
    "queue_partner_stop",
    "queue_partner_sync",
    "record_access",
    "record_access_bulk",
    "record_access_set",
    "record_provision",
    "record_provisions_bulk",
    "record_search",
    "record_sensitive_shown",
    "refused_required_purposes",
    "release_legal_hold",
    "require_perm",
    "rotate_affiliate_secret",
    "save_affiliate",
    "save_contractor",
    "sensitive_value",
    "set_consent",
    "stop_provision",
    "update_member",
]
