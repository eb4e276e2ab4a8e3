"""``DirectSelect`` writes the ``<select>`` Django's templates would, without a template per option."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib.auth import get_user_model

from consentoffice.audit.filters import AccessLogFilter, HistoryFilter
from consentoffice.core.widgets import DirectSelect

CHOICES = [("", "---------"), ("a<b", 'A & <B> "q"'), ("2", "二"), (3, "三")]


def _same(html: str) -> str:
    """Django's templates put a newline and two spaces before each option; nothing else differs."""
    return re.sub(r"\n\s*", "", html)


@pytest.mark.parametrize("value", ["", "a<b", "2", 3, None, "not-a-choice"])
def test_a_select_is_written_as_djangos_templates_write_it(value):
    attrs = {"id": "id_who", "class": "wide", "required": True, "disabled": False}
    django = forms.Select(choices=CHOICES, attrs=attrs).render("who", value)
    direct = DirectSelect(choices=CHOICES, attrs=attrs).render("who", value)
    assert direct == _same(django)
    assert "&lt;B&gt;" in direct and "<B>" not in direct


def test_option_groups_are_left_to_djangos_templates():
    grouped = [("果物", [("apple", "りんご")]), ("other", "その他")]
    assert DirectSelect(choices=grouped).render("x", "apple") == forms.Select(choices=grouped).render(
        "x", "apple"
    )


@pytest.mark.django_db
def test_a_model_choice_select_names_each_user_by_primary_key(operator, supervisor):
    field = forms.ModelChoiceField(
        queryset=get_user_model().objects.order_by("username"), widget=DirectSelect
    )
    django_field = forms.ModelChoiceField(queryset=get_user_model().objects.order_by("username"))
    assert field.widget.render("user", supervisor.pk) == _same(
        django_field.widget.render("user", supervisor.pk)
    )
    assert f'<option value="{supervisor.pk}" selected>' in field.widget.render("user", supervisor.pk)


@pytest.mark.django_db
def test_the_audit_filters_write_their_selects_directly(rf):
    request = rf.get("/audit/")
    from members.models import AccessLog

    for filterset in (
        HistoryFilter({}, queryset=AccessLog.objects.none(), request=request),
        AccessLogFilter({}, queryset=AccessLog.objects.none(), request=request),
    ):
        selects = [
            name for name, field in filterset.form.fields.items() if isinstance(field.widget, forms.Select)
        ]
        assert selects and all(
            isinstance(filterset.form.fields[name].widget, DirectSelect) for name in selects
        )
