"""Form widgets written out directly where the template engine is the cost.

Django renders a ``<select>`` through one template include per option: a filter bar of a few
selects (the audit trail's 変更者, 対象, 種別) spent a fifth of its page's time there. ``DirectSelect``
writes the same element with ``format_html``; anything it does not cover (option groups) it leaves
to Django's templates."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


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


class DirectSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        context = self.get_context(name, value, attrs)["widget"]
        if any(group_name for group_name, _options, _index in context["optgroups"]):
            return super().render(name, value, attrs, renderer)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (str(option["value"]), attributes(option["attrs"]), option["label"])
                for _group, group_options, _index in context["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', context["name"], attributes(context["attrs"]), options
        )
