"""CSV exports of every filtered audit view are streamed, and each export is itself logged."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from django.urls import reverse

from consentoffice.audit.selectors import EXPORT_CHUNK
from members.models import AccessAction, AccessLog
from tests.audit.conftest import track
from tests.factories import MemberFactory


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_history_export_holds_the_filtered_rows_and_is_logged(client, supervisor, operator):
    alice, bob = MemberFactory(), MemberFactory()
    alice.city = "港区"
    track(alice, user=operator, reason="住所変更", when=None)
    bob.city = "品川区"
    track(bob, user=operator, reason="別の会員", when=None)
    client.force_login(supervisor)
    url = f"{reverse('audit:history_export')}?{urlencode({'member': alice.member_no, 'user': operator.pk})}"
    rows = read_csv(client.get(url))
    assert rows[0][0] == "日時"
    assert [(r[2], r[8], r[9], r[10]) for r in rows[1:]] == [
        ("members.member", alice.member_no, "住所変更", alice.member_no)
    ]
    log = AccessLog.objects.get(user=supervisor, action=AccessAction.EXPORT)
    assert log.member == alice
    assert log.detail == "audit history csv"
    assert log.path == reverse("audit:history_export")  # no query string (no member numbers) in the log


def test_the_history_export_walks_past_one_chunk(client, supervisor, operator):
    member = MemberFactory()
    for i in range(EXPORT_CHUNK + 3):
        member.city = f"市{i}"
        track(member, user=operator, reason="変更", when=None)
    client.force_login(supervisor)
    rows = read_csv(client.get(f"{reverse('audit:history_export')}?user={operator.pk}"))
    assert len(rows) - 1 == EXPORT_CHUNK + 3
    assert len({r[4] for r in rows[1:]}) == EXPORT_CHUNK + 3


def test_the_timeline_export_is_logged_against_the_member(client, supervisor, operator):
    member = MemberFactory()
    client.force_login(supervisor)
    rows = read_csv(client.get(reverse("audit:timeline_export", args=[member.member_no])))
    assert {r[2] for r in rows[1:]} == {"members.member", "members.accesslog"}
    assert AccessLog.objects.filter(user=supervisor, member=member, action=AccessAction.EXPORT).count() == 1


def test_the_access_log_export_holds_the_filtered_entries_and_is_logged(client, supervisor, operator):
    member = MemberFactory()
    AccessLog.objects.create(member=member, user=operator, action=AccessAction.DOWNLOAD, detail="letter")
    AccessLog.objects.create(member=member, user=operator, action=AccessAction.VIEW, detail="view")
    client.force_login(supervisor)
    rows = read_csv(client.get(f"{reverse('audit:access_export')}?action=download"))
    assert [(r[5], r[8], r[9]) for r in rows[1:]] == [("download", member.member_no, "letter")]
    assert (
        AccessLog.objects.filter(
            user=supervisor, action=AccessAction.EXPORT, detail="audit access csv"
        ).count()
        == 1
    )


def test_exported_text_never_starts_a_spreadsheet_formula(client, supervisor, operator):
    member = MemberFactory()
    member.city = "港区"
    track(member, user=operator, reason='=HYPERLINK("http://example.com")', when=None)
    client.force_login(supervisor)
    rows = read_csv(client.get(f"{reverse('audit:history_export')}?reason=HYPERLINK"))
    assert [r[9] for r in rows[1:]] == ['\'=HYPERLINK("http://example.com")']
    assert [r[6] for r in rows[1:]] == ["変更"]
