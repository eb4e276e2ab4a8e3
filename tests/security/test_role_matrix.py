"""The role matrix (issue 9): every URL of the project × anonymous, operator, supervisor, privacy
officer → the status each must get.

Two explicit tables hold the expectations:

- ``URLS``: one row per URL pattern that is not a standard admin model view, keyed by the
  pattern's full route as ``django.urls.get_resolver()`` lists it;
- ``ADMIN_MODELS``: one row per model registered in the admin, with the status of its
  changelist, add, change, delete and history pages per role.

``test_every_url_pattern_has_a_row`` fails when a URL pattern or an admin model is added without a
row (or a row is left behind after its URL went away), and ``test_admin_rows_agree_with_the_role
_permission_table`` checks the admin rows against ``consentoffice.core.roles.ROLE_PERMISSIONS``: a page
is open only to a role that holds the permission, and a role that may view a model sees its list.
Supervisors and the privacy officer log in with a second factor: the matrix is checked with a
verified session, and ``test_supervisors_without_a_verified_code_...`` checks that the password
alone sends them to the code page from every URL the matrix holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from bureaus import services as bureau_services
from consentoffice.accounts.twofactor import OTP_EXEMPT_PREFIXES, confirmed_device
from consentoffice.core.history import system_user
from consentoffice.core.roles import OPERATOR, PRIVACY_OFFICER, ROLE_PERMISSIONS, SUPERVISOR
from consentoffice.models import Heartbeat
from consentoffice.tasks import BEAT
from members import services as member_services
from members.models import AccessAction, ConsentVersion, ProvisionBasis, RecipientKind
from requests import rules
from requests import services as request_services
from requests.models import Reminder
from tests.conftest import TEST_PASSWORD, Client
from tests.factories import (
    AffiliateFactory,
    ContactRecordFactory,
    ContractFactory,
    IdentityDocumentFactory,
    MemberFactory,
)
from tests.requests import verified_request

pytestmark = pytest.mark.postgres

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, OPERATOR, SUPERVISOR, PRIVACY_OFFICER)
LOGIN = "login"  # 302 to the admin login page


@dataclass(frozen=True)
class Row:
    """How to call one URL and what each role gets, in the order of ``ROLES``."""

    url: Callable[[SimpleNamespace], str]
    expect: tuple
    method: str = "get"
    data: dict = field(default_factory=dict)
    json: bool = False  # an empty JSON body instead of an empty form


# --- Non-admin-model URL patterns -----------------------------------------------------------

URLS: dict[str, Row] = {
    # 業務ホーム (tickets and the member search) is for every role; センター状況 for supervisors.
    "": Row(lambda w: "/", (LOGIN, 200, 200, 200)),
    "notifications/read/": Row(lambda w: "/notifications/read/", (LOGIN, 302, 302, 302), "post"),
    "dashboard/": Row(lambda w: "/dashboard/", (LOGIN, 403, 200, 200)),
    "members/": Row(lambda w: "/members/", (LOGIN, 200, 200, 200)),
    # Marketing and research lists (clause Art. 2(1)) are the privacy officer's alone.
    "members/<member_no:member_no>/": Row(
        lambda w: f"/members/{w.member.member_no}/", (LOGIN, 200, 200, 200)
    ),
    # An empty form: the workspace again with the errors, nothing saved.
    "members/<member_no:member_no>/change-notification/": Row(
        lambda w: f"/members/{w.member.member_no}/change-notification/", (LOGIN, 200, 200, 200), "post"
    ),
    "members/<member_no:member_no>/contact-note/": Row(
        lambda w: f"/members/{w.member.member_no}/contact-note/", (LOGIN, 200, 200, 200), "post"
    ),
    "members/<member_no:member_no>/open-ticket/": Row(
        lambda w: f"/members/{w.member.member_no}/open-ticket/", (LOGIN, 200, 200, 200), "post"
    ),
    "members/extract/": Row(lambda w: "/members/extract/", (LOGIN, 403, 403, 200)),
    "members/extract/download/": Row(
        lambda w: "/members/extract/download/",
        (LOGIN, 403, 403, 200),
        "post",
        {"purpose": "marketing_own", "channel": "post"},
    ),
    # The second-factor pages: a verified supervisor has nothing to do there.
    "account/otp/": Row(lambda w: "/account/otp/", (LOGIN, 302, 302, 302)),
    "account/otp/setup/": Row(lambda w: "/account/otp/setup/", (LOGIN, 302, 302, 302)),
    # Enrolment codes for a colleague's authenticator: supervisors and the privacy officer.
    "security/enrolment-codes/": Row(lambda w: "/security/enrolment-codes/", (LOGIN, 403, 200, 200)),
    # The audit trail (監査証跡) is read by supervisors and the privacy officer only.
    "audit/": Row(lambda w: "/audit/", (LOGIN, 403, 200, 200)),
    "audit/export.csv": Row(lambda w: "/audit/export.csv", (LOGIN, 403, 200, 200)),
    "audit/history/<str:label>/<int:history_id>/": Row(
        lambda w: f"/audit/history/members.member/{w.member_history_id}/", (LOGIN, 403, 200, 200)
    ),
    "audit/members/<member_no:member_no>/": Row(
        lambda w: f"/audit/members/{w.member.member_no}/", (LOGIN, 403, 200, 200)
    ),
    "audit/members/<member_no:member_no>/export.csv": Row(
        lambda w: f"/audit/members/{w.member.member_no}/export.csv", (LOGIN, 403, 200, 200)
    ),
    "audit/access/": Row(lambda w: "/audit/access/", (LOGIN, 403, 200, 200)),
    "audit/access/export.csv": Row(lambda w: "/audit/access/export.csv", (LOGIN, 403, 200, 200)),
    "i18n/setlang/": Row(lambda w: "/i18n/setlang/", (302, 302, 302, 302), "post", {"language": "ja"}),
    "healthz/": Row(lambda w: "/healthz/", (200, 200, 200, 200)),
    # The scraper's endpoint: no login, a bearer token or a caller on this machine not through a
    # proxy; the test client is one (REMOTE_ADDR 127.0.0.1). Refusals: tests/test_metrics.py.
    "metrics/": Row(lambda w: "/metrics/", (200, 200, 200, 200)),
    # Authenticated by the affiliate's signature, not a login: an unsigned body is refused alike.
    "partners/<slug:code>/member-changes": Row(
        lambda w: f"/partners/{w.affiliate.code}/member-changes", (401, 401, 401, 401), "post", json=True
    ),
    "requests/packages/<int:pk>/download/": Row(
        lambda w: reverse("requests:download_package", args=[w.package.pk]), (LOGIN, 403, 200, 200)
    ),
    "requests/tickets/<int:pk>/reply-letter/": Row(
        lambda w: reverse("requests:reply_letter", args=[w.ticket.pk]), (LOGIN, 200, 200, 200)
    ),
    # Prefecture and city of a postal code (public reference data) for the address correction form.
    "requests/postal-codes/<str:code>/": Row(
        lambda w: reverse("requests:postal_code", args=["1000001"]), (LOGIN, 200, 200, 200)
    ),
    "admin/": Row(lambda w: reverse("admin:index"), (LOGIN, 200, 200, 200)),
    "admin/login/": Row(lambda w: reverse("admin:login"), (200, 302, 302, 302)),
    "admin/logout/": Row(lambda w: reverse("admin:logout"), (302, 200, 200, 200), "post"),
    "admin/password_change/": Row(lambda w: reverse("admin:password_change"), (LOGIN, 200, 200, 200)),
    "admin/password_change/done/": Row(
        lambda w: reverse("admin:password_change_done"), (LOGIN, 200, 200, 200)
    ),
    "admin/autocomplete/": Row(
        lambda w: (
            reverse("admin:autocomplete") + "?app_label=requests&model_name=ticket&field_name=member&term=2"
        ),
        (LOGIN, 200, 200, 200),
    ),
    "admin/jsi18n/": Row(lambda w: reverse("admin:jsi18n"), (LOGIN, 200, 200, 200)),
    "admin/r/<path:content_type_id>/<path:object_id>/": Row(
        lambda w: reverse("admin:view_on_site", args=[w.member_ct, w.member.pk]), (LOGIN, 404, 404, 404)
    ),
    "admin/^(?P<app_label>auth|axes|members|requests|bureaus)/$": Row(
        lambda w: reverse("admin:app_list", args=["members"]), (LOGIN, 200, 200, 200)
    ),
    "admin/(?P<url>.*)$": Row(lambda w: "/admin/no-such-page/", (LOGIN, 404, 404, 404)),
    "admin/auth/user/<id>/password/": Row(
        lambda w: reverse("admin:auth_user_password_change", args=[w.users[OPERATOR].pk]),
        (LOGIN, 403, 403, 403),
    ),
    # Publishing a consent version (Art. 9) is the privacy officer's; the published one stays so.
    "admin/members/consentversion/<path:object_id>/publish/": Row(
        lambda w: reverse("admin:members_consentversion_publish", args=[w.consent_version.pk]),
        (LOGIN, 403, 403, 302),
        "post",
    ),
    "admin/requests/ticket/queue/<slug:scope>/": Row(
        lambda w: reverse("admin:requests_ticket_queue", args=["approval"]), (LOGIN, 403, 200, 200)
    ),
    # A step without its form goes back to the ticket page with the error shown there.
    "admin/requests/ticket/<int:object_id>/step/<slug:step>/": Row(
        lambda w: reverse("admin:requests_ticket_step", args=[w.ticket.pk, "hold"]),
        (LOGIN, 302, 302, 302),
        "post",
    ),
    "admin/members/affiliate/<int:pk>/rotate-secret/": Row(
        lambda w: reverse("admin:members_affiliate_rotate_secret", args=[w.affiliate.pk]),
        (LOGIN, 403, 200, 200),
    ),
    "admin/bureaus/submissionbatch/<int:pk>/download/": Row(
        lambda w: reverse("admin:bureaus_submissionbatch_download", args=[w.batch.pk]),
        (LOGIN, 403, 200, 200),
    ),
    # 修正して再送 of a record that was not returned: back to its page with the error.
    "admin/bureaus/submission/<int:pk>/resubmit/": Row(
        lambda w: reverse("admin:bureaus_submission_resubmit", args=[w.batch.submissions.first().pk]),
        (LOGIN, 302, 302, 302),
        "post",
    ),
    "admin/bureaus/submissionbatch/<int:pk>/import-response/": Row(
        lambda w: reverse("admin:bureaus_submissionbatch_import", args=[w.batch.pk]),
        (LOGIN, 403, 200, 200),
    ),
}

# --- Admin model pages ------------------------------------------------------------------------

ADMIN_VIEWS = ("changelist", "add", "change", "delete", "history")

_READ_ALL = {  # a register every role reads and nobody writes by hand
    "changelist": (LOGIN, 200, 200, 200),
    "add": (LOGIN, 403, 403, 403),
    "change": (LOGIN, 200, 200, 200),
    "delete": (LOGIN, 403, 403, 403),
    "history": (LOGIN, 200, 200, 200),
}
_READ_SUPERVISORS = {  # a register for supervisors and the privacy officer only
    "changelist": (LOGIN, 403, 200, 200),
    "add": (LOGIN, 403, 403, 403),
    "change": (LOGIN, 403, 200, 200),
    "delete": (LOGIN, 403, 403, 403),
    "history": (LOGIN, 403, 200, 200),
}
_ADD_ALL = {  # every role adds; nothing is deleted from the back-office
    "changelist": (LOGIN, 200, 200, 200),
    "add": (LOGIN, 200, 200, 200),
    "change": (LOGIN, 200, 200, 200),
    "delete": (LOGIN, 403, 403, 403),
    "history": (LOGIN, 200, 200, 200),
}
_NOBODY = {  # user accounts and groups are managed outside the three roles
    "changelist": (LOGIN, 403, 403, 403),
    "add": (LOGIN, 403, 403, 403),
    "change": (LOGIN, 403, 403, 403),
    "delete": (LOGIN, 403, 403, 403),
    "history": (LOGIN, 403, 403, 403),
}

ADMIN_MODELS: dict[str, dict[str, tuple]] = {
    "auth.user": _NOBODY,
    "auth.group": _NOBODY,
    "axes.accessattempt": _NOBODY,
    "axes.accesslog": _NOBODY,
    "axes.accessfailurelog": _NOBODY,
    "members.member": _ADD_ALL,
    "members.contract": _ADD_ALL,
    "members.contactrecord": _ADD_ALL,
    "members.identitydocument": _ADD_ALL,
    "members.consentversion": {
        "changelist": (LOGIN, 200, 200, 200),
        "add": (LOGIN, 403, 403, 200),
        "change": (LOGIN, 200, 200, 200),
        "delete": (LOGIN, 403, 403, 403),
        "history": (LOGIN, 200, 200, 200),
    },
    "members.affiliate": {
        "changelist": (LOGIN, 200, 200, 200),
        "add": (LOGIN, 403, 200, 200),
        "change": (LOGIN, 200, 200, 200),
        "delete": (LOGIN, 403, 403, 403),
        "history": (LOGIN, 200, 200, 200),
    },
    "members.purpose": _READ_ALL,
    "members.partnersyncevent": _READ_SUPERVISORS,
    "members.contractor": _READ_ALL,
    "members.entrustment": _READ_ALL,
    "members.provisionrecord": _READ_ALL,
    "members.accesslog": _READ_SUPERVISORS,
    "members.legalhold": {  # placed and released by the privacy officer only (clause Art. 7)
        "changelist": (LOGIN, 403, 403, 200),
        "add": (LOGIN, 403, 403, 200),
        "change": (LOGIN, 403, 403, 200),
        "delete": (LOGIN, 403, 403, 403),
        "history": (LOGIN, 403, 403, 200),
    },
    "requests.ticket": _ADD_ALL,
    "requests.reminder": _READ_ALL,
    "bureaus.bureau": _READ_ALL,
    "bureaus.submission": _READ_ALL,
    "bureaus.submissionbatch": _READ_ALL,
    "bureaus.inquiry": _ADD_ALL,
}

# The permission a role must hold for each admin page to be open to it.
_NEEDS = {
    "changelist": ("view", "change"),
    "change": ("view", "change"),
    "history": ("view", "change"),
    "add": ("add",),
    "delete": ("delete",),
}


# --- Walking the URL configuration ----------------------------------------------------------


def url_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(route, name) of every URL pattern, recursively, routes as written in the URLconfs."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name or ''}"


def _model_prefixes() -> dict[str, str]:
    return {
        f"admin/{model._meta.app_label}/{model._meta.model_name}/": f"{model._meta.label_lower}"
        for model in admin.site._registry
    }


def is_standard_admin_view(route: str, name: str) -> bool:
    """The changelist/add/change/delete/history pages every ModelAdmin has (``ADMIN_MODELS``)."""
    for prefix, label in _model_prefixes().items():
        if not route.startswith(prefix):
            continue
        info = label.replace(".", "_")
        if name in {f"admin:{info}_{view}" for view in ADMIN_VIEWS}:
            return True
        if route == f"{prefix}<path:object_id>/":  # the old-style redirect to the change page
            return True
    return False


def non_admin_model_routes() -> set[str]:
    return {route for route, name in url_patterns() if not is_standard_admin_view(route, name)}


# --- The objects the URLs point at ------------------------------------------------------------


@pytest.fixture
def world(private_storage, operator, supervisor, supervisor2, privacy_officer):
    """One real row of every model the admin shows, made through the services or the factories."""
    affiliate = AffiliateFactory()
    member = MemberFactory()
    contract = ContractFactory(member=member, affiliate=affiliate)
    member_services.update_member(member, actor=operator, reason="転居の届出", phone="0311112222")
    ContactRecordFactory(member=member)
    IdentityDocumentFactory(member=member)
    member_services.place_legal_hold(
        member, actor=privacy_officer, reason_kind="litigation", note="令和8年(ワ)第1号"
    )
    contractor = member_services.save_contractor(
        actor=supervisor, name="債権回収テスト", business="督促", address="東京都港区芝浦9-9-9"
    )
    member_services.entrust(
        actor=supervisor, contractor=contractor, member=member, purpose="督促業務", items=["氏名"]
    )
    member_services.record_provision(
        member=member,
        recipient_kind=RecipientKind.AFFILIATE,
        recipient=affiliate.name,
        items=["氏名"],
        basis=ProvisionBasis.CONSENT,
    )
    member_services.record_access(user=operator, action=AccessAction.VIEW, member=member)
    ticket = verified_request(rules.Kind.DISCLOSURE, member=member, actor=operator)
    request_services.record_fee_payment(ticket, actor=operator, paid_on=timezone.localdate())
    package = request_services.build_disclosure_package(ticket, actor=operator)
    ticket = request_services.submit_for_approval(ticket, outcome=rules.Outcome.FULFILLED, actor=operator)
    Reminder.objects.create(ticket=ticket, kind=Reminder.Kind.DUE_SOON, sent_on=date(2026, 1, 5))
    bureau_services.make_inquiry(actor=operator, contract=contract, bureau="CIC", purpose="ability_to_pay")
    [batch] = bureau_services.build_batches(actor=system_user())
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"last_seen": timezone.now()})
    _log_in_and_fail_once(operator)
    return SimpleNamespace(
        users={OPERATOR: operator, SUPERVISOR: supervisor, PRIVACY_OFFICER: privacy_officer},
        affiliate=affiliate,
        member=member,
        member_ct=ContentType.objects.get_for_model(member).pk,
        ticket=ticket,
        package=package,
        batch=batch,
        consent_version=ConsentVersion.objects.filter(published_at__isnull=False).first(),
        member_history_id=member.history.order_by("-history_id").first().history_id,
        device=confirmed_device(supervisor),
    )


def _log_in_and_fail_once(user) -> None:
    """A real failed and a real successful login, so django-axes has rows to show."""
    from axes.models import AccessFailureLog

    other = Client()
    other.post(reverse("admin:login"), {"username": user.username, "password": TEST_PASSWORD})
    other.post(reverse("admin:login"), {"username": user.username, "password": "wrong-password"})
    if not AccessFailureLog.objects.exists():  # kept only where AXES_ENABLE_ACCESS_FAILURE_LOG
        AccessFailureLog.objects.create(username=user.username, ip_address="127.0.0.1", user_agent="test")


def _object_of(label: str, world: SimpleNamespace):
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)
    if label == "auth.user":
        return world.users[OPERATOR]
    if label == "auth.group":
        return Group.objects.get(name=OPERATOR)
    return model._default_manager.order_by("pk").first()


def admin_checks(world) -> list[tuple[str, str, str, tuple, dict]]:
    """(what, method, url, expected) for every admin model page."""
    checks = []
    for label, views in ADMIN_MODELS.items():
        info = label.replace(".", "_")
        obj = _object_of(label, world)
        assert obj is not None, f"the role matrix needs a {label} row to open its pages"
        for view in ADMIN_VIEWS:
            args = [obj.pk] if view in ("change", "delete", "history") else []
            url = reverse(f"admin:{info}_{view}", args=args)
            checks.append((f"{label} {view}", "get", url, views[view], {}))
    return checks


def _payload(row: Row) -> dict:
    if row.json:
        return {"data": b"{}", "content_type": "application/json"}
    return {"data": row.data} if row.data else {}


def url_checks(world) -> list[tuple[str, str, str, tuple, dict]]:
    return [
        (route or "/", row.method, row.url(world), row.expect, _payload(row)) for route, row in URLS.items()
    ]


def _matches(response, expected) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    return response.status_code == expected


# --- Tests ------------------------------------------------------------------------------------


def test_every_url_pattern_has_a_row():
    routes = non_admin_model_routes()
    assert sorted(routes - set(URLS)) == [], "new URL patterns need a row in URLS"
    assert sorted(set(URLS) - routes) == [], "rows in URLS for URL patterns that no longer exist"


def test_every_admin_model_has_a_row():
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert sorted(registered - set(ADMIN_MODELS)) == [], "new admin models need a row in ADMIN_MODELS"
    assert sorted(set(ADMIN_MODELS) - registered) == []
    assert all(set(views) == set(ADMIN_VIEWS) for views in ADMIN_MODELS.values())
    assert all(len(expect) == len(ROLES) for views in ADMIN_MODELS.values() for expect in views.values())
    assert all(len(row.expect) == len(ROLES) for row in URLS.values())


@pytest.mark.parametrize("role", [OPERATOR, SUPERVISOR, PRIVACY_OFFICER])
def test_admin_rows_agree_with_the_role_permission_table(role):
    """A page open to a role needs the permission; a role that may view a model sees its pages."""
    held = ROLE_PERMISSIONS[role]
    column = ROLES.index(role)
    wrong = []
    for label, views in ADMIN_MODELS.items():
        app_label, model_name = label.split(".")
        for view, expect in views.items():
            perms = {f"{app_label}.{action}_{model_name}" for action in _NEEDS[view]}
            holds = bool(perms & held)
            opened = expect[column] == 200
            if opened and not holds:
                wrong.append(f"{label} {view}: open without {sorted(perms)}")
            if view in ("changelist", "change", "history") and holds and not opened:
                wrong.append(f"{label} {view}: closed although the role holds {sorted(perms & held)}")
        assert expect[0] == LOGIN, f"{label}: the admin sends anonymous users to the login page"
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_matrix_says(role, world, client):
    user = world.users.get(role)
    column = ROLES.index(role)
    checks = url_checks(world) + admin_checks(world)
    wrong = []
    for what, method, url, expect, payload in checks:
        client.logout()
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url, **payload)
        if not _matches(response, expect[column]):
            wrong.append(
                f"{what} ({method.upper()} {url}): {response.status_code}, expected {expect[column]}"
            )
    assert wrong == []
    assert len(checks) == len(URLS) + len(ADMIN_MODELS) * len(ADMIN_VIEWS)


def test_the_matrix_size_is_what_security_md_states():
    """URLs × roles checked: the figure SECURITY.md quotes (printed with ``-s``)."""
    per_role = len(URLS) + len(ADMIN_MODELS) * len(ADMIN_VIEWS)
    print(f"role matrix: {per_role} URLs × {len(ROLES)} roles = {per_role * len(ROLES)} checks")
    assert per_role * len(ROLES) >= 400


@pytest.mark.parametrize("role", [SUPERVISOR, PRIVACY_OFFICER])
def test_supervisors_without_a_verified_code_are_sent_to_the_code_page_everywhere(role, world, client):
    """A password alone opens nothing of a supervisor's: every page but the exempt ones (login,
    the code pages, the signed partner endpoint, health) sends them to the second-factor page."""
    user = world.users[role]
    wrong = []
    checked = 0
    for what, method, url, _expect, payload in url_checks(world) + admin_checks(world):
        if url.startswith(OTP_EXEMPT_PREFIXES):
            continue
        client.logout()
        client.force_login(user, otp=False)
        response = getattr(client, method)(url, **payload)
        checked += 1
        if response.status_code != 302 or not response["Location"].startswith("/account/otp/"):
            wrong.append(f"{what} ({method.upper()} {url}): {response.status_code}")
    assert wrong == []
    assert checked > len(ADMIN_MODELS) * len(ADMIN_VIEWS)
