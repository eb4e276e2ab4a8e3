"""Inputs the admin draws without a name of their own get one (found by axe-core, WCAG 4.1.2):
the two inputs of a split date and time, and the autocomplete box of a related record."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.ui import login

pytestmark = pytest.mark.django_db


def test_the_new_ticket_form_names_both_received_inputs_and_loads_the_box_names_after_select2(
    client, operator
):
    login(client, operator)
    page = client.get(reverse("admin:requests_ticket_add")).content.decode()

    date = re.search(r'<input[^>]*name="received_at_0"[^>]*>', page).group()
    time = re.search(r'<input[^>]*name="received_at_1"[^>]*>', page).group()
    assert 'aria-label="受付日時（日付）"' in date
    assert 'aria-label="受付日時（時刻）"' in time
    scripts = re.findall(r'<script src="/static/([^"]+)"', page)
    assert scripts.index("consentoffice/js/autocomplete_labels.js") > scripts.index(
        "admin/js/autocomplete.js"
    )
