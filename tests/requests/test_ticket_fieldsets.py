"""The ticket page's read-only fieldsets, written out (``consentoffice.core.fieldsets``), are the
elements Django's ``admin/includes/fieldset.html`` writes."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.test.html import parse_html

from requests import admin as ticket_admin
from requests import rules, services
from requests.models import Ticket
from tests.factories import MemberFactory
from tests.requests import open_request, verified_request
from tests.requests.test_admin import change_url, login

pytestmark = pytest.mark.django_db

Kind = rules.Kind
FIELDSET = re.compile(r"<fieldset class=\"module aligned.*?</fieldset>", re.S)  # the form's, not a step's


def _fieldsets(client, ticket) -> list[str]:
    page = client.get(change_url(ticket)).content.decode()
    return FIELDSET.findall(page)


def _tickets(operator) -> list[Ticket]:
    member = MemberFactory(family_name="<b>髙橋</b>", given_name="花子 & 子")
    plain = open_request(
        Kind.DISCLOSURE, member=member, actor=operator, summary='<script>"x"</script> & 住所'
    )
    agent = open_request(
        Kind.CORRECTION,
        member=member,
        actor=operator,
        requester_type=rules.RequesterType.DELEGATE,
        agent_name="代理 <太郎>",
    )
    verified = verified_request(Kind.USAGE_STOP, member=member, actor=operator)
    held = services.hold(verified, actor=operator, reason="書類待ち")
    inquiry = open_request(Kind.INQUIRY, member=None, actor=operator)
    closed = services.close_ticket(inquiry, actor=operator)
    return [plain, agent, held, closed]


def test_the_written_fieldsets_are_the_templates(client, operator, monkeypatch):
    tickets = _tickets(operator)
    login(client, operator)
    real, used = ticket_admin.readonly_fieldsets_html, []
    monkeypatch.setattr(
        ticket_admin, "readonly_fieldsets_html", lambda form: used.append(real(form)) or used[-1]
    )
    written = [_fieldsets(client, t) for t in tickets]
    assert len(used) == len(tickets) and all(used)  # the pages were written out, not templated
    monkeypatch.setattr(ticket_admin, "readonly_fieldsets_html", lambda adminform: "")
    templated = [_fieldsets(client, t) for t in tickets]
    for ticket, ours, django in zip(tickets, written, templated, strict=True):
        assert len(ours) == len(django) == 4, ticket.number
        for mine, theirs in zip(ours, django, strict=True):
            assert parse_html(mine) == parse_html(theirs), ticket.number
    page = "".join(written[0])
    assert "&lt;script&gt;&quot;x&quot;&lt;/script&gt; &amp; 住所" in page and "<script>" not in page
    assert 'class="readonly"' in page and 'id="fieldset-0-1-heading"' in page


def test_a_form_with_an_editable_field_is_left_to_the_template():
    class Form(forms.Form):
        name = forms.CharField()
        code = forms.CharField()

    fieldsets = [(None, {"fields": ["name", "code"]})]
    model_admin = admin.site.get_model_admin(Ticket)
    editable = helpers.AdminForm(Form(), fieldsets, {}, readonly_fields=["code"], model_admin=model_admin)
    assert ticket_admin.readonly_fieldsets_html(editable) == ""
