"""A read-only admin form's fieldsets written out in Python.

Django renders each fieldset through ``admin/includes/fieldset.html``: a loop per fieldset, per
line and per field, with a dozen lookups and conditions for every field. On the ticket page, whose
28 fields are all read-only (the services change a ticket, never the form), that was most of its
rendering. ``readonly_fieldsets_html`` writes the same elements — the fieldset with its heading,
each field's row, label, value and help text — from the same objects (the admin's
``AdminReadonlyField`` gives each label and value, escaped as ever); the tests compare it with the
template's output. A form with any editable field gets ``""``: the page then uses the template.
"""

from __future__ import annotations

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def _field_html(field, single: bool) -> str:
    name = field.field.get("name") or ""
    box = "" if single else f" fieldBox field-{conditional_escape(name)}" if name else " fieldBox"
    help_text = field.field.get("help_text")
    helper = f'<div class="help"><div>{help_text}</div></div>' if help_text else ""  # |safe, as Django
    return (
        f'<div><div class="flex-container{box}">{field.label_tag()}'
        f'<div class="readonly">{field.contents()}</div></div>{helper}</div>'
    )


def _fieldset_html(fieldset, index: int) -> str:
    heading_id = f"fieldset-0-{index}-heading"
    labelled = f' aria-labelledby="{heading_id}"' if fieldset.name else ""
    head = ""
    if fieldset.name:
        head = f'<h2 id="{heading_id}" class="fieldset-heading">{conditional_escape(fieldset.name)}</h2>'
        if fieldset.is_collapsible:
            head = f"<details><summary>{head}</summary>"
    description = f'<div class="description">{fieldset.description}</div>' if fieldset.description else ""
    rows = []
    for line in fieldset:
        fields = list(line)
        single = len(line.fields) == 1
        names = "".join(
            f" field-{conditional_escape(f.field['name'])}" for f in fields if f.field.get("name")
        )
        inner = "".join(_field_html(f, single) for f in fields)
        if not single:
            inner = f'<div class="flex-container form-multiline">{inner}</div>'
        rows.append(f'<div class="form-row{names}">{inner}</div>')
    tail = "</details>" if fieldset.name and fieldset.is_collapsible else ""
    return (
        f'<fieldset class="module aligned {conditional_escape(fieldset.classes)}"{labelled}>'
        f"{head}{description}{''.join(rows)}{tail}</fieldset>"
    )


def readonly_fieldsets_html(adminform) -> SafeString | str:
    """The fieldsets of ``adminform`` as ``admin/includes/fieldset.html`` writes them (heading level
    2, the change form's ids), or ``""`` when a field is editable."""
    fieldsets = list(adminform)
    for fieldset in fieldsets:
        for line in fieldset:
            if any(not field.is_readonly for field in line):
                return ""
    return mark_safe(  # labels and values come escaped from the admin's helpers; the rest is escaped here
        "".join(_fieldset_html(fieldset, index) for index, fieldset in enumerate(fieldsets))
    )
