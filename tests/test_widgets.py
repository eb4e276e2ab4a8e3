"""``DirectRenderer`` writes the ``<select>`` Django's templates would, without a template per option."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe

from consentoffice.core.widgets import DirectRenderer

CHOICES = [("", "---------"), ("a<b", 'A & <B> "q"'), ("2", "二"), (3, "三")]
GROUPED = [("", "---------"), ("果物 <1>", [("apple", "りんご"), ("pear", "なし")]), ("other", "その他")]
DJANGO, DIRECT = DjangoTemplates(), DirectRenderer()


def _same(html: str) -> str:
    """Django's templates put a line break and spaces before each option; nothing else differs."""
    return re.sub(r"\n\s*", "", html)


def _both(widget: forms.Widget, name: str, value) -> tuple[str, str]:
    return _same(widget.render(name, value, renderer=DJANGO)), widget.render(name, value, renderer=DIRECT)


def test_the_project_renders_forms_with_it():
    assert isinstance(get_default_renderer(), DirectRenderer)


@pytest.mark.parametrize("value", ["", "a<b", "2", 3, None, "not-a-choice"])
def test_a_select_is_written_as_djangos_templates_write_it(value):
    attrs = {"id": "id_who", "class": "wide", "required": True, "disabled": False}
    django, direct = _both(forms.Select(choices=CHOICES, attrs=attrs), "who", value)
    assert direct == django
    assert "&lt;B&gt;" in direct and "<B>" not in direct


@pytest.mark.parametrize(
    "widget, value",
    [
        (forms.SelectMultiple(choices=CHOICES), ["2", "a<b"]),
        (forms.Select(choices=GROUPED), "pear"),
        (forms.SelectMultiple(choices=GROUPED), ["apple", "other"]),
        (forms.NullBooleanSelect(), True),
        (forms.NullBooleanSelect(), None),
    ],
)
def test_multiple_grouped_and_yes_no_selects_too(widget, value):
    django, direct = _both(widget, "x", value)
    assert direct == django
    assert direct.count(" selected") == (len(value) if isinstance(value, list) else 1)


@pytest.mark.parametrize(
    "widget, value",
    [
        (forms.TextInput(attrs={"size": 40, "required": True, "disabled": False}), "A & <B> \"q\" 's'"),
        (forms.TextInput(), ""),
        (forms.TextInput(), None),
        (forms.TextInput(attrs={"placeholder": mark_safe("<i>safe</i>")}), mark_safe("<b>safe</b>")),
        (forms.NumberInput(attrs={"min": 0}), 3),
        (forms.EmailInput(), "a@example.jp"),
        (forms.URLInput(), "https://example.jp/?a=1&b=2"),
        (forms.PasswordInput(), "secret"),
        (forms.PasswordInput(render_value=True), "secret"),
        (forms.HiddenInput(), 7),
        (forms.DateInput(), date(2026, 12, 8)),
        (forms.DateTimeInput(), datetime(2026, 12, 8, 9, 30)),
        (forms.TimeInput(), time(9, 30)),
        (forms.CheckboxInput(), True),
        (forms.CheckboxInput(), False),
        (forms.Textarea(attrs={"rows": 2, "cols": 40}), "一行目\n<二行目> & 三"),
        (forms.Textarea(), ""),
        (forms.Textarea(), None),
    ],
)
def test_inputs_and_text_areas_are_written_as_djangos_templates_write_them(widget, value):
    html = widget.render("x", value, attrs={"id": "id_x"}, renderer=DIRECT)
    assert html == widget.render("x", value, attrs={"id": "id_x"}, renderer=DJANGO)
    assert "<B>" not in html and "<二行目>" not in html


def test_inputs_text_areas_and_selects_never_reach_a_template(monkeypatch):
    def template(*args, **kwargs):
        raise AssertionError("rendered through a template")

    monkeypatch.setattr(DjangoTemplates, "render", template)
    for widget in (
        forms.TextInput(),
        forms.NumberInput(),
        forms.DateInput(),
        forms.HiddenInput(),
        forms.CheckboxInput(),
        forms.Textarea(),
        forms.Select(choices=CHOICES),
    ):
        assert widget.render("x", "2", renderer=DIRECT).startswith("<")


def test_a_select_with_its_own_option_template_is_left_to_the_templates():
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    html = Custom(choices=CHOICES).render("x", "2", renderer=DIRECT)
    assert html == Custom(choices=CHOICES).render("x", "2", renderer=DJANGO)
    assert "<option" not in html


@pytest.mark.django_db
def test_a_model_choice_select_names_each_user_by_primary_key(operator, supervisor):
    users = get_user_model().objects.order_by("username")
    widget = forms.ModelChoiceField(queryset=users).widget
    django, direct = _both(widget, "user", supervisor.pk)
    assert direct == django
    assert f'<option value="{supervisor.pk}" selected>' in direct


@pytest.mark.django_db
def test_a_form_on_a_page_uses_it(client, operator):
    """The member workspace's forms: prefectures, request kinds and channels on one page."""
    from tests.factories import MemberFactory
    from tests.ui import login

    member = MemberFactory()
    login(client, operator)
    html = client.get(f"/members/{member.member_no}/").content.decode()
    # The header's language switch is written in its template; the rest are the forms' widgets.
    selects = re.findall(r'<select name="(?!language")[^>]*>.*?</select>', html, flags=re.S)
    assert len(selects) >= 3 and all("\n" not in select for select in selects)
