"""Every write to bureau data (clause Art. 3): inquiries, registrations, batch files, responses.

By sub-domain: ``registrations`` (inquiries and the facts registered from contract events),
``batches`` (registration files) with ``provisions`` (the provision records a file leaves),
``responses`` (a bureau's result file) and ``expiry`` (registration periods ending). The
``members`` app never imports this package: bureaus depends on members, not the reverse.
"""

from bureaus.services.batches import PRIVATE_STORAGE, build_batches
from bureaus.services.expiry import expire_registrations
from bureaus.services.registrations import (
    delinquency_open,
    make_inquiry,
    record_contract_event,
    record_deletion,
    record_member_correction,
    record_payment_status,
    resubmit,
    sweep_contract_events,
)
from bureaus.services.responses import import_response

__all__ = [
    "PRIVATE_STORAGE",
    "build_batches",
    "delinquency_open",
    "expire_registrations",
    "import_response",
    "make_inquiry",
    "record_contract_event",
    "record_deletion",
    "record_member_correction",
    "record_payment_status",
    "resubmit",
    "sweep_contract_events",
]
