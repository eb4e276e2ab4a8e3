"""Roles and what each may do: one table, read by the migration, the services and the tests.

``operator`` handles tickets and sees masked data; ``supervisor`` approves (four eyes), reads the
audit trail, manages affiliates and replays dead sync events; ``privacy_officer`` (個人情報保護管理者)
has everything a supervisor has, publishes consent versions (Art. 9), draws marketing and
research lists (Art. 2(1), ``members.extracts``) and places and releases legal holds on erasure
(Art. 7).
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db.models import Q

OPERATOR = "operator"
SUPERVISOR = "supervisor"
PRIVACY_OFFICER = "privacy_officer"
ROLES = (OPERATOR, SUPERVISOR, PRIVACY_OFFICER)

# Custom permissions (declared in the models' Meta.permissions).
VIEW_SENSITIVE = "members.view_sensitive_data"
DECIDE_APPLICATION = "members.decide_application"
PUBLISH_CONSENT_VERSION = "members.publish_consentversion"
REPLAY_SYNC_EVENT = "members.replay_partnersyncevent"
VIEW_AUDIT = "members.view_audit_trail"
# Encrypted values in clear in the audit trail's diffs: the privacy officer only.
VIEW_AUDIT_CLEAR_VALUES = "consentoffice.view_audit_clear_values"
APPROVE_TICKET = "requests.approve_ticket"
# A bureau registration file holds many members' records: supervisors download it, operators do not.
DOWNLOAD_BUREAU_FILE = "bureaus.change_submissionbatch"
# Exporting more than MEMBER_EXPORT_LIMIT members at once from the member list: the privacy officer.
EXPORT_MANY_MEMBERS = "members.export_many_members"
# Marketing and research lists of members (clause Art. 2(1)): the privacy officer only.
EXTRACT_MARKETING = "members.extract_marketing"
# Placing and releasing a legal hold on erasure (clause Art. 7): the privacy officer only.
MANAGE_LEGAL_HOLD = "members.manage_legalhold"
# Issuing a colleague's one-time code to enrol an authenticator app (consentoffice.accounts.twofactor).
ISSUE_ENROLMENT_CODE = "consentoffice.add_enrolmentcode"

_VIEW = "view"
_ADD = "add"
_CHANGE = "change"


def _perms(app: str, model: str, *actions: str) -> set[str]:
    return {f"{app}.{action}_{model}" for action in actions}


_operator = (
    _perms("members", "member", _VIEW, _ADD, _CHANGE)
    | _perms("members", "contract", _VIEW, _ADD, _CHANGE)
    | _perms("members", "paymentrecord", _VIEW)
    | _perms("members", "financialdeclaration", _VIEW, _ADD)
    | _perms("members", "contactrecord", _VIEW, _ADD)
    | _perms("members", "identitydocument", _VIEW, _ADD)
    | _perms("members", "onlineauthevent", _VIEW)
    | _perms("members", "publicrecord", _VIEW, _ADD)
    | _perms("members", "consent", _VIEW, _CHANGE)
    | _perms("members", "consentversion", _VIEW)
    | _perms("members", "purpose", _VIEW)
    | _perms("members", "affiliate", _VIEW)
    | _perms("members", "contractor", _VIEW)
    | _perms("members", "entrustment", _VIEW)
    | _perms("members", "provisionrecord", _VIEW)
    | _perms("requests", "ticket", _VIEW, _ADD, _CHANGE)
    | _perms("requests", "correctionitem", _VIEW, _ADD, _CHANGE)
    | _perms("requests", "deletionitem", _VIEW, _ADD, _CHANGE)
    | _perms("requests", "disclosurepackage", _VIEW)
    | _perms("requests", "reminder", _VIEW)
    | _perms("bureaus", "bureau", _VIEW)
    | _perms("bureaus", "inquiry", _VIEW, _ADD)
    | _perms("bureaus", "submission", _VIEW, _CHANGE)
    | _perms("bureaus", "submissionbatch", _VIEW)
)

_supervisor = (
    _operator
    | {VIEW_SENSITIVE, DECIDE_APPLICATION, REPLAY_SYNC_EVENT, VIEW_AUDIT, APPROVE_TICKET}
    | {ISSUE_ENROLMENT_CODE}
    | _perms("members", "affiliate", _ADD, _CHANGE)
    | _perms("members", "partnersyncevent", _VIEW)
    | _perms("members", "contractor", _ADD, _CHANGE)
    | _perms("members", "entrustment", _ADD, _CHANGE)
    | _perms("members", "accesslog", _VIEW)
    | _perms("members", "paymentrecord", _ADD)
    | _perms("bureaus", "submissionbatch", _ADD, _CHANGE)
)

_privacy_officer = (
    _supervisor
    | {
        PUBLISH_CONSENT_VERSION,
        VIEW_AUDIT_CLEAR_VALUES,
        EXTRACT_MARKETING,
        MANAGE_LEGAL_HOLD,
        EXPORT_MANY_MEMBERS,
    }
    | _perms("members", "legalhold", _VIEW, _ADD)
    | _perms("members", "consentversion", _ADD, _CHANGE)
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    OPERATOR: frozenset(_operator),
    SUPERVISOR: frozenset(_supervisor),
    PRIVACY_OFFICER: frozenset(_privacy_officer),
}


# Principals that are not people (no password, never log in): each holds exactly what its code
# paths ask ``require_perm`` for, never ``is_superuser`` (least privilege).
SYSTEM = "system"  # scheduled Celery tasks and commands: consentoffice.core.history.system_user
AFFILIATE = "affiliate"  # changes an affiliate sends in (Art. 10): consentoffice.core.history.affiliate_user
PRINCIPALS = (SYSTEM, AFFILIATE)

PRINCIPAL_PERMISSIONS: dict[str, frozenset[str]] = {
    SYSTEM: frozenset(
        {
            "members.change_member",  # retention: erase_member_data, anonymize_member
            "bureaus.add_submissionbatch",  # build_batches (task, demo seed)
            "bureaus.change_submissionbatch",  # import_response (import_bureau_response command)
            "bureaus.change_submission",  # expire_registrations
        }
    ),
    AFFILIATE: frozenset({"members.change_member"}),  # update_member of the affiliate's cardholder
}

# Every group the migrations create and ``sync_role_permissions`` keeps.
GROUP_PERMISSIONS: dict[str, frozenset[str]] = {**ROLE_PERMISSIONS, **PRINCIPAL_PERMISSIONS}


def _set_permissions(group, wanted: frozenset[str], Permission) -> None:
    q = Q(pk__in=[])
    for perm in wanted:
        app_label, codename = perm.split(".", 1)
        q |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(q))


def sync_role_permissions(sender=None, apps=global_apps, verbosity: int = 0, **kwargs) -> None:
    """Make each group hold exactly the permissions of GROUP_PERMISSIONS (post_migrate).

    Permissions of apps whose models do not exist yet are skipped; the next migrate adds them.
    """
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        _set_permissions(group, wanted, Permission)


def principal_group(name: str):
    """The group of a principal (``SYSTEM``, ``AFFILIATE``), made with its permissions if missing
    (a database flushed by a test, or used before its first migrate's post_migrate)."""
    from django.contrib.auth.models import Group, Permission

    group, created = Group.objects.get_or_create(name=name)
    if created:
        _set_permissions(group, PRINCIPAL_PERMISSIONS[name], Permission)
    return group


def role_of(user) -> str | None:
    """The strongest role a user holds (privacy officer > supervisor > operator)."""
    if user is None or not user.is_authenticated:
        return None
    names = {g.name for g in user.groups.all()}
    for role in (PRIVACY_OFFICER, SUPERVISOR, OPERATOR):
        if role in names:
            return role
    return None
