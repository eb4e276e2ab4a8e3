"""The form renderer: Django's, except that a ``<select>``, an ``<input>`` and a ``<textarea>`` are
written out directly.

Django renders a select through one template include per option, and the include of the
attributes per option again: the audit trail's filter bar spent a fifth of its page there, the
member workspace's forms (47 prefectures, the request kinds, the channels) a sixth of theirs, and
every admin form and change list with a select pays the same. ``DirectRenderer`` writes the same
element with every value through ``conditional_escape`` (the HTML of Django's templates without
their line breaks; the tests compare the two), for every widget that renders
``django/forms/widgets/select.html`` with Django's option template — ``Select``,
``SelectMultiple``, ``NullBooleanSelect``, the admin's autocomplete. Text, number, e-mail, date,
hidden and checkbox inputs and text areas cost two template includes each the same way (a
quarter of the workspace's rendering): Django's ``input.html`` and ``textarea.html`` are written
out too. Anything else goes to Django's templates."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
# Django's input.html and the templates that are nothing but an include of it.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "color",
        "search",
        "tel",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "checkbox",
    )
)


def attributes(attrs: dict) -> str:
    """Attributes in the order given, as Django's ``attrs.html`` writes them: ``False`` left out,
    ``True`` as the bare name (escaped: safe HTML)."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def _options(options: list[dict]) -> str:
    # Written with ``conditional_escape`` per value, as ``format_html`` would, without its call per
    # option and attribute: the prefectures' 47 options were a tenth of the member workspace.
    return "".join(
        f'<option value="{conditional_escape(str(option["value"]))}"'
        f"{attributes(option['attrs']) if option['attrs'] else ''}>"
        f"{conditional_escape(option['label'])}</option>"
        for option in options
    )


def select_html(widget: dict) -> SafeString:
    """The ``<select>`` of a widget's template context (``get_context()["widget"]``)."""
    groups = "".join(
        f'<optgroup label="{conditional_escape(name)}">{_options(options)}</optgroup>'
        if name
        else _options(options)
        for name, options, _index in widget["optgroups"]
    )
    return mark_safe(  # every value above is escaped
        f'<select name="{conditional_escape(widget["name"])}"{attributes(widget["attrs"])}>{groups}</select>'
    )


def input_html(widget: dict) -> SafeString:
    """Django's ``input.html``: the value as ``stringformat:'s'`` writes it, left out when None."""
    value = widget["value"]
    value_attr = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return mark_safe(  # every value is escaped
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value_attr}{attributes(widget['attrs'])}>"
    )


def textarea_html(widget: dict) -> SafeString:
    """Django's ``textarea.html``: a line break after the opening tag, then the value if any."""
    value = widget["value"]
    return mark_safe(  # every value is escaped
        f'<textarea name="{conditional_escape(widget["name"])}"{attributes(widget["attrs"])}>\n'
        f"{conditional_escape(value) if value else ''}</textarea>"
    )


class DirectRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES and "widget" in context:
            return input_html(context["widget"])
        if template_name == TEXTAREA_TEMPLATE and "widget" in context:
            return textarea_html(context["widget"])
        widget = context.get("widget") if template_name == SELECT_TEMPLATE else None
        if widget is not None and all(
            option.get("template_name") == OPTION_TEMPLATE
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            return select_html(widget)
        return super().render(template_name, context, request)
