"""No personal data leaks (issue 9).

(a) Sensitive values (document numbers, settlement accounts, income) are encrypted at rest and
    masked for operators on every page, list, JSON and CSV that shows the member; supervisors see
    them in clear and the view is logged.
(b) Logs, queued task arguments, exception messages and error pages carry ids, never the
    demo members' names, kana, phones, e-mail addresses or addresses, while the main flows run.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid

import pytest
from celery.signals import before_task_publish
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from consentoffice.accounts.twofactor import create_confirmed_device
from consentoffice.core.crypto import mask
from members import demo, partner_sync
from members import services as member_services
from members.models import AccessAction, AccessLog, Affiliate, Member, PartnerSyncEvent, SyncStatus
from members.tasks import deliver_partner_sync
from requests import rules
from requests import services as request_services
from tests.conftest import Client
from tests.factories import ContractFactory, IdentityDocumentFactory, MemberFactory
from tests.fake_affiliate import FakeAffiliate
from tests.requests import verified_request

pytestmark = pytest.mark.postgres

DOCUMENT_NO = "QX7305519846"
ACCOUNT = "0009-118-2468135"
INCOME = 7315926
# Every form a clear value can take on a page (the hidden part on its own too).
CLEAR_FORMS = (
    DOCUMENT_NO,
    DOCUMENT_NO[:-4],
    ACCOUNT,
    ACCOUNT[:-4],
    str(INCOME),
    f"{INCOME:,}",
    f"{INCOME:,}"[:-4],
)
MASKED = {"document": mask(DOCUMENT_NO), "account": mask(ACCOUNT), "income": mask(INCOME)}


# --- (a) masked for operators ------------------------------------------------------------------


@pytest.fixture
def sensitive(operator):
    member = MemberFactory()
    contract = ContractFactory(member=member, settlement_account=ACCOUNT)
    document = IdentityDocumentFactory(member=member, number=DOCUMENT_NO)
    member_services.add_financial_declaration(actor=operator, member=member, annual_income=INCOME)
    ticket = verified_request(rules.Kind.CORRECTION, member=member, actor=operator)
    return member, contract, document, ticket


def _pages(member, contract, document, ticket) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every page that shows the member: url → the masked values it must show."""
    autocomplete = "?app_label=requests&model_name=ticket&field_name=member&term=" + member.member_no
    return {
        "member page": (
            reverse("admin:members_member_change", args=[member.pk]),
            ("document", "account", "income"),
        ),
        "member search": (reverse("admin:members_member_changelist") + f"?q={member.member_no}", ()),
        "member history": (reverse("admin:members_member_history", args=[member.pk]), ()),
        "contract page": (reverse("admin:members_contract_change", args=[contract.pk]), ("account",)),
        "contract list": (reverse("admin:members_contract_changelist"), ()),
        "contract history": (reverse("admin:members_contract_history", args=[contract.pk]), ()),
        "document page": (
            reverse("admin:members_identitydocument_change", args=[document.pk]),
            ("document",),
        ),
        "document list": (reverse("admin:members_identitydocument_changelist"), ("document",)),
        "ticket page": (reverse("admin:requests_ticket_change", args=[ticket.pk]), ()),
        "ticket list": (reverse("admin:requests_ticket_changelist"), ()),
        "member autocomplete (JSON)": (reverse("admin:autocomplete") + autocomplete, ()),
        "home search": ("/?q=" + member.member_no, ()),
    }


def _leaked(content: bytes) -> list[str]:
    text = content.decode("utf-8", errors="replace")
    return [form for form in CLEAR_FORMS if form in text]


def test_operators_never_get_a_sensitive_value_in_clear_on_any_page(client, operator, sensitive):
    client.force_login(operator)
    for name, (url, shown) in _pages(*sensitive).items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert _leaked(response.content) == [], name
        text = response.content.decode()
        for key in shown:
            assert MASKED[key] in text, f"{name} shows {key} masked"


def test_operators_csv_export_holds_the_masked_income_only(client, operator, sensitive):
    member = sensitive[0]
    client.force_login(operator)
    response = client.post(
        reverse("admin:members_member_changelist"),
        {"action": "export_csv", "_selected_action": [member.pk], "index": 0},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert _leaked(response.content) == []
    assert MASKED["income"] in response.content.decode("utf-8-sig")
    assert AccessLog.objects.filter(
        user=operator, member=member, action=AccessAction.EXPORT, detail="csv sensitive=masked"
    ).exists()


def test_supervisors_see_the_values_in_clear_and_the_view_is_logged(client, supervisor, sensitive):
    member = sensitive[0]
    client.force_login(supervisor)
    response = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert response.status_code == 200, response.get("Location")
    text = response.content.decode()
    assert DOCUMENT_NO in text and ACCOUNT in text and f"{INCOME:,}" in text
    logged = AccessLog.objects.get(user=supervisor, member=member, action=AccessAction.VIEW_SENSITIVE)
    assert logged.detail  # which items were shown, never the values
    assert not any(form in logged.detail for form in CLEAR_FORMS)
    exported = client.post(
        reverse("admin:members_member_changelist"),
        {"action": "export_csv", "_selected_action": [member.pk], "index": 0},
    )
    assert f"{INCOME:,}" in exported.content.decode("utf-8-sig")
    assert AccessLog.objects.filter(
        user=supervisor, member=member, action=AccessAction.EXPORT, detail="csv sensitive=clear"
    ).exists()


def test_the_disclosure_package_is_the_members_own_copy_and_every_download_is_logged(
    client, operator, supervisor, supervisor2, sensitive, private_storage
):
    """The package answers the member's own request (APPI Art. 33), so it holds the values in
    clear by design: only the approving supervisor (before approval) and the assignee (after it)
    open it, and each copy taken is a download and a sensitive view of the member."""
    member, _contract, _document, _ticket = sensitive
    ticket = verified_request(rules.Kind.DISCLOSURE, member=member, actor=operator)
    request_services.record_fee_payment(ticket, actor=operator, paid_on=timezone.localdate())
    package = request_services.build_disclosure_package(ticket, actor=operator)
    url = reverse("requests:download_package", args=[package.pk])
    client.force_login(operator)
    assert client.get(url).status_code == 403  # the operator alone: never
    ticket = request_services.submit_for_approval(ticket, outcome=rules.Outcome.FULFILLED, actor=operator)
    assert client.get(url).status_code == 403
    client.force_login(supervisor)
    b"".join(client.get(url).streaming_content)
    request_services.approve(ticket, actor=supervisor2)
    assert client.get(url).status_code == 403  # approved: the assignee delivers it
    client.force_login(operator)
    b"".join(client.get(url).streaming_content)
    for user in (supervisor, operator):
        actions = AccessLog.objects.filter(user=user, member=member).values_list("action", flat=True)
        assert sorted(actions) == [AccessAction.DOWNLOAD, AccessAction.VIEW_SENSITIVE]


@pytest.mark.parametrize("page", ["timeline", "timeline csv", "history", "history csv"])
def test_the_audit_lists_and_exports_never_carry_a_sensitive_value_in_clear(
    page, client, supervisor, sensitive
):
    """The audit trail's lists and CSV exports show sensitive values masked, even to supervisors:
    a clear value is read on the member's page, where each reading is logged."""
    member = sensitive[0]
    url = {
        "timeline": f"/audit/members/{member.member_no}/",
        "timeline csv": f"/audit/members/{member.member_no}/export.csv",
        "history": "/audit/",
        "history csv": "/audit/export.csv",
    }[page]
    client.force_login(supervisor)
    response = client.get(url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert member.member_no.encode() in content  # the member's rows are there
    assert _leaked(content) == []


def test_sensitive_values_are_not_stored_in_clear(sensitive):
    from django.db import connection

    member = sensitive[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.settlement_account, d.number FROM members_contract c, members_identitydocument d "
            "WHERE c.member_id = %s AND d.member_id = %s",
            [member.pk, member.pk],
        )
        stored = " ".join(cursor.fetchone())
    assert ACCOUNT not in stored and DOCUMENT_NO not in stored


# --- (b) logs, task arguments, exception messages, error pages ----------------------------------


class Capture:
    """Everything the flows leave behind that is not the member's own page."""

    def __init__(self):
        self.tasks: list[str] = []
        self.errors: list[str] = []
        self.pages: list[str] = []

    def on_publish(self, sender=None, body=None, headers=None, **kwargs):
        headers = headers or {}
        self.tasks.append(f"{sender} {body!r} {headers.get('argsrepr', '')} {headers.get('kwargsrepr', '')}")


@pytest.fixture
def capture(caplog, monkeypatch, settings):
    """Logs at DEBUG, published task messages and every ValidationError text.

    DEBUG is the most a deployment can turn on (``DJANGO_LOG_LEVEL=DEBUG`` sets the root logger);
    loggers that settings.LOGGING pins to a level keep it there, as they would in production —
    ``django.db.backends`` (SQL with its parameters) and ``django.template`` (failed lookups
    with the whole page context) are pinned because they would carry members' data.
    """
    pinned = {name for name, conf in settings.LOGGING.get("loggers", {}).items() if "level" in conf}
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        if not any(name == p or name.startswith(p + ".") for p in pinned):
            caplog.set_level(logging.DEBUG, logger=name)
    assert {"django.db.backends", "django.template"} <= pinned
    found = Capture()
    original = ValidationError.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        try:
            found.errors.append(" ".join(str(m) for m in self.messages))
        except Exception:  # a half-built error is reported by its own raiser
            pass

    monkeypatch.setattr(ValidationError, "__init__", recording_init)
    before_task_publish.connect(found.on_publish, weak=False)
    yield found
    before_task_publish.disconnect(found.on_publish)


def _log_text(caplog) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


def personal_strings(members) -> set[str]:
    """What of each member must never show up outside the member's own pages."""
    found = set()
    for m in members:
        found |= {
            f"{m.family_name} {m.given_name}",
            f"{m.family_name}{m.given_name}",
            f"{m.family_name_kana} {m.given_name_kana}",
            f"{m.family_name_kana}{m.given_name_kana}",
            m.phone,
            m.phone_display,
            m.city,
            m.address,
        }
        if m.email:
            found.add(m.email)
        if len(m.address_line) >= 6:
            found.add(m.address_line)
    return {s for s in found if s}


def _signed_inbound(client, affiliate: Affiliate, secret: str, member: Member, changes: dict):
    body = json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": timezone.now().isoformat(),
            "member_no": member.member_no,
            "changes": changes,
        },
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    return client.post(
        f"/partners/{affiliate.code}/member-changes",
        data=body,
        content_type="application/json",
        headers={
            "X-Consentoffice-Timestamp": timestamp,
            "X-Consentoffice-Signature": partner_sync.sign(secret, timestamp, body),
        },
    )


def _partner_members(code: str) -> list[Member]:
    return list(Member.objects.filter(contracts__affiliate__code=code).distinct().order_by("member_no"))


def test_main_flows_leave_no_personal_data_in_logs_tasks_errors_or_error_pages(
    db, client, capture, caplog, private_storage, settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = False
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 0.0
    ctx, _created = demo.seed(member_count=12)
    members = list(Member.objects.order_by("member_no"))
    secrets = personal_strings(members)
    operator, supervisor, supervisor2 = (ctx.users[n] for n in ("operator", "supervisor", "supervisor2"))
    spec = demo.DEMO_AFFILIATES[0]
    partner, other_partner, *_rest = _partner_members(spec["code"])
    plain = next(m for m in members if m not in _partner_members(spec["code"]))
    new_phone = "0357778888"
    secrets |= {new_phone, "03-5777-8888", "みなと花子", f"{other_partner.family_name_kana} ハナコ"}

    issued = Affiliate.objects.get(code=spec["code"]).shared_secret  # issued by the system
    with FakeAffiliate(issued) as fake, django_capture_on_commit_callbacks(execute=True):
        affiliate = member_services.save_affiliate(
            actor=supervisor,
            affiliate=Affiliate.objects.get(code=spec["code"]),
            reason="試験",
            endpoint=fake.url,
        )
        # An operator searches by every key and opens the member.
        client.force_login(operator)
        for term in (partner.family_name_kana, partner.phone_display, partner.family_name, partner.email):
            assert client.get(reverse("admin:members_member_changelist"), {"q": term}).status_code == 200
            assert client.get("/", {"q": term}).status_code == 200
        client.get(reverse("admin:members_member_change", args=[partner.pk]))
        # A correction: opened, verified, corrected, approved; the affiliate is told (Art. 10).
        ticket = verified_request(rules.Kind.CORRECTION, member=partner, actor=operator)
        for field, bad in (
            ("phone", "電話は" + partner.phone),
            ("email", partner.family_name + "@"),
            ("family_name_kana", partner.family_name),
        ):
            with pytest.raises(ValidationError):
                request_services.add_correction_item(ticket, field=field, requested_value=bad, actor=operator)
        item = request_services.add_correction_item(
            ticket, field="phone", requested_value=new_phone, actor=operator
        )
        request_services.decide_correction_item(item, actor=operator, accept=True)
        ticket = request_services.submit_for_approval(ticket, outcome=rules.Outcome.FULFILLED, actor=operator)
        request_services.approve(ticket, actor=supervisor)
        assert PartnerSyncEvent.objects.filter(member=partner, status=SyncStatus.PENDING).exists()
        deliver_partner_sync.apply()
        # A disclosure: package built, approved by a second supervisor, downloaded.
        disclosure = verified_request(rules.Kind.DISCLOSURE, member=plain, actor=operator)
        request_services.record_fee_payment(disclosure, actor=operator, paid_on=timezone.localdate())
        package = request_services.build_disclosure_package(disclosure, actor=operator)
        disclosure = request_services.submit_for_approval(
            disclosure, outcome=rules.Outcome.FULFILLED, actor=operator
        )
        request_services.approve(disclosure, actor=supervisor2)
        assert client.get(reverse("requests:download_package", args=[package.pk])).status_code == 200
        # A supervisor reads the member in clear, the audit trail and the dashboard.
        create_confirmed_device(supervisor, name="テスト用")
        reader = Client()
        reader.force_login(supervisor)
        for url in (
            reverse("admin:members_member_change", args=[partner.pk]),
            f"/audit/members/{partner.member_no}/",
            f"/audit/members/{partner.member_no}/export.csv",
            "/audit/",
            "/audit/access/",
            "/dashboard/",
        ):
            assert reader.get(url).status_code == 200, url
        # The affiliate tells us of a change, once well-formed and once not.
        ok = _signed_inbound(client, affiliate, issued, other_partner, {"given_name_kana": "ハナコ"})
        bad = _signed_inbound(client, affiliate, issued, other_partner, {"family_name_kana": "みなと花子"})
        assert (ok.status_code, bad.status_code) == (200, 400)
        # Error pages: a 404 whose address carries a name, and a 500 (the package file cannot be
        # read: a directory stands where it was; an erased file answers 410, not an error).
        capture.pages.append(
            client.get(f"/requests/tickets/999999/reply-letter/?q={partner.family_name}").content.decode()
        )
        storages["private"].delete(package.file)
        os.makedirs(storages["private"].path(package.file))
        client.raise_request_exception = False
        broken = client.get(reverse("requests:download_package", args=[package.pk]))
        assert broken.status_code == 500
        capture.pages.append(broken.content.decode(errors="replace"))

    assert fake.received and fake.received[0]["member_no"] == partner.member_no
    assert all(doc["changes"] == {"phone": new_phone} for doc in fake.received)
    logs = _log_text(caplog)
    assert any("Internal Server Error" in line for line in logs)  # the capture sees the 500
    assert any(" members.tasks.deliver_partner_sync" in f" {task}" for task in capture.tasks)
    assert capture.errors  # the refused corrections were captured
    haystack = {"logs": logs, "tasks": capture.tasks, "errors": capture.errors, "pages": capture.pages}
    leaks = {
        where: sorted({s for s in secrets for text in texts if s in text})
        for where, texts in haystack.items()
    }
    print(
        f"leak search: {len(secrets)} personal strings of {len(members)} demo members in "
        + ", ".join(f"{len(texts)} {where}" for where, texts in haystack.items())
    )
    assert leaks == {"logs": [], "tasks": [], "errors": [], "pages": []}
