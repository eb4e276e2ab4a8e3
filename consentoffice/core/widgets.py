"""The form renderer: Django's, except that a ``<select>`` is written out directly.

Django renders a select through one template include per option, and the include of the
attributes per option again: the audit trail's filter bar spent a fifth of its page there, the
member workspace's forms (47 prefectures, the request kinds, the channels) a sixth of theirs, and
every admin form and change list with a select pays the same. ``DirectRenderer`` writes the same
element with ``format_html`` (the HTML of Django's templates without their line breaks; the tests
compare the two), for every widget that renders ``django/forms/widgets/select.html`` with
Django's option template — ``Select``, ``SelectMultiple``, ``NullBooleanSelect``, the admin's
autocomplete. Anything else goes to Django's templates."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def attributes(attrs: dict) -> SafeString:
    """Attributes in the order given, as Django's ``attrs.html`` writes them: ``False`` left out,
    ``True`` as the bare name."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value)),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


def _options(options: list[dict]) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((str(option["value"]), attributes(option["attrs"]), option["label"]) for option in options),
    )


def select_html(widget: dict) -> SafeString:
    """The ``<select>`` of a widget's template context (``get_context()["widget"]``)."""
    groups = format_html_join(
        "",
        "{}",
        (
            (
                format_html('<optgroup label="{}">{}</optgroup>', name, _options(options))
                if name
                else _options(options),
            )
            for name, options, _index in widget["optgroups"]
        ),
    )
    return format_html('<select name="{}"{}>{}</select>', widget["name"], attributes(widget["attrs"]), groups)


class DirectRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name == SELECT_TEMPLATE else None
        if widget is not None and all(
            option.get("template_name") == OPTION_TEMPLATE
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            return select_html(widget)
        return super().render(template_name, context, request)
