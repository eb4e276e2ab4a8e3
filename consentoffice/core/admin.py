"""The back-office site's titles and the base classes every app's admin builds on.

Admin classes stay thin: a form collects the input, a service validates and writes it. Nothing is
deleted from the admin, and nothing of the audit trail can be edited there.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consentoffice.core.pagination import CappedCountPaginator

admin.site.site_header = _("consentoffice インフォメーションセンター")
admin.site.site_title = _("consentoffice")
# /admin/ is the table index (台帳一覧) for supervisors; the day's work starts at 業務ホーム (/), which
# the header and the first breadcrumb of every page lead to (templates/admin/_home_crumb.html).
admin.site.index_title = _("台帳一覧")
# The header links to the operator home itself; no separate "view site" link.
admin.site.site_url = None
# No sidebar of every table: queues and lists get the page's whole width (readable at 1366 px).
admin.site.enable_nav_sidebar = False


def action_form_response(model_admin, request, *, template: str, title, form, objects, action_name: str):
    """The page of an admin action that asks for input first (``admin/action_form.html``)."""
    from django.template.response import TemplateResponse

    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        "objects": objects,
        "action_name": action_name,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, template, context)


class ServiceRefused(Exception):
    """A service refused the input during ``save_model``: the change form is shown again with the
    service's messages as form errors (the surrounding transaction has rolled back)."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


def add_validation_error(form, error: ValidationError, *, field: str | None = None) -> None:
    """Attach a service's ``ValidationError`` to a form: per field where the form has the field;
    the rest on ``field`` (the one field a form is about, a file say) or the form as a whole."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else field, errors)
    else:
        form.add_error(field, error)


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, re-shown after an error, looks up the posted ids as they came;
    an id that is not a valid key (``":"``) would fail in the database. Only valid keys are looked
    up: the form field itself still reports the bad choice as an error.

    Its box (select2) is named after the field's ``<label>`` by ``autocomplete_labels.js``: select2
    names it by the chosen value alone, so an empty box had no accessible name (WCAG 4.1.2)."""

    @property
    def media(self):
        # One list, so that merging with the form's other media cannot move it before select2.
        media = super().media
        return forms.Media(js=[*media._js, "consentoffice/js/autocomplete_labels.js"], css=media._css)

    def optgroups(self, name, value, attr=None):
        key = self.field.target_field
        valid = []
        for item in value:
            try:
                key.to_python(item)
            except ValidationError:
                continue
            valid.append(item)
        return super().optgroups(name, valid, attr)


def name_split_inputs(formfield) -> None:
    """Each input of a split date and time is named after its field (受付日時（日付）, 受付日時（時刻）):
    the field's one ``<label>`` points at neither input (a MultiWidget has no ``id_for_label``),
    so a screen reader announced two unnamed boxes (WCAG 1.3.1, 4.1.2)."""
    widget = getattr(formfield, "widget", None)
    if isinstance(widget, forms.SplitDateTimeWidget):
        date, time = widget.widgets
        date.attrs["aria-label"] = _("%(field)s（日付）") % {"field": formfield.label}
        time.attrs["aria-label"] = _("%(field)s（時刻）") % {"field": formfield.label}


class NamedInputsMixin:
    """Every input of a change form has an accessible name (``name_split_inputs``)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        name_split_inputs(formfield)
        return formfield


class CheckedAutocompleteMixin:
    """Autocomplete fields use ``CheckedAutocompleteSelect``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# What may follow a filtered field's name in a list's query string: the lookups Django's own list
# filters write (choices, booleans, related objects, date ranges and the date hierarchy).
OFFERED_LOOKUP_SUFFIXES = frozenset(
    {
        "",
        "exact",
        "isnull",
        "in",
        "gte",
        "gt",
        "lte",
        "lt",
        "id__exact",
        "id__in",
        "pk__exact",
        "year",
        "month",
        "day",
    }
)


class OfferedFiltersOnlyMixin:
    """A list answers only the filters it offers (``list_filter``, ``date_hierarchy``).

    Django accepts any lookup on a model's own fields from the query string
    (``?phone__startswith=090``, ``?family_name__regex=…``): a search around the search box that
    the access log never saw, and a 500 for a bad pattern. Here anything else is refused (400,
    ``DisallowedModelAdminLookup``); the search box (``?q=``) stays the one way to search.
    """

    # Fields a page links to by filter without showing the filter (a batch's submissions, say).
    linked_filters: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        offered = set(self.linked_filters)
        if self.date_hierarchy:
            offered.add(self.date_hierarchy)
        for entry in self.list_filter:
            name = entry[0] if isinstance(entry, (tuple, list)) else entry
            # A field's name, or a SimpleListFilter's own parameter.
            name = name if isinstance(name, str) else getattr(name, "parameter_name", None)
            if name:
                offered.add(name)
        field, _sep, suffix = lookup.partition("__")
        if field not in offered or suffix not in OFFERED_LOOKUP_SUFFIXES:
            return False
        return super().lookup_allowed(lookup, value, request)


class NoDeleteMixin:
    """Nothing is deleted from the back-office: records are ended, erased or anonymized by services."""

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ListDefaultsMixin:
    """Every list pages without counting its whole table (issue 7): a capped count, or the
    planner's estimate on PostgreSQL. A register of a few rows may say ``paginator = Paginator``."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


class ServiceModelAdmin(
    ListDefaultsMixin,
    OfferedFiltersOnlyMixin,
    CheckedAutocompleteMixin,
    NamedInputsMixin,
    NoDeleteMixin,
    admin.ModelAdmin,
):
    """A ModelAdmin whose writes go through a service.

    Subclasses implement ``perform_save(request, obj, form, change)`` and call the service there.
    A ``ValidationError`` from the service rolls the request's transaction back and shows the form
    again with the errors, as if the form itself had refused the input.
    """

    # False: a record, once added, is only read here (replaced, ended or released through services).
    editable = True

    def has_change_permission(self, request, obj=None):
        return self.editable and super().has_change_permission(request, obj)

    def perform_save(self, request, obj, form, change):
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        try:
            saved = self.perform_save(request, obj, form, change)
        except ValidationError as exc:
            raise ServiceRefused(exc) from exc
        if saved is not None and saved is not obj:
            # The admin goes on with ``obj`` (messages, redirect, LogEntry): give it the saved identity.
            obj.pk = saved.pk
            obj._state.adding = False
            obj._state.db = saved._state.db

    def save_related(self, request, form, formsets, change):
        """Related rows are written by services, never through inline formsets (they are read-only)."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request._service_error = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        class RefusedForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                add_validation_error(self, error)

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm


class ReadOnlyModelAdmin(ListDefaultsMixin, OfferedFiltersOnlyMixin, NoDeleteMixin, admin.ModelAdmin):
    """Records written by the system: a list and a detail page to read; no form adds, edits or
    deletes anything.

    ``model_change_permission = True`` keeps the user's own change permission for the list, so
    list actions that need it (resubmitting rejected records, say) are offered; each record's page
    stays read-only.
    """

    model_change_permission = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return self.model_change_permission and obj is None and super().has_change_permission(request)


class ReadOnlyInline(admin.TabularInline):
    """Related rows shown on a record's page; they are added on their own pages through services."""

    extra = 0
    max_num = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def get_formset(self, request, obj=None, **kwargs):
        # Inline instances are made per request: the display methods need the viewer.
        self.request = request
        return super().get_formset(request, obj, **kwargs)
