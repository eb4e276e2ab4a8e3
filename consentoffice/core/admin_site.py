"""The admin site of the back-office: Django's, except that the list of every table is built only
where a page shows it.

Django puts that list (``available_apps``: a permission check and two URLs per table) into every
admin page's context for the navigation sidebar, which this site turns off; the table index
(/admin/) is the only page that shows it. Built lazily, it costs nothing elsewhere — about a
twentieth of each queue, ticket and workspace page before."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.functional import SimpleLazyObject


class CenterAdminSite(admin.AdminSite):
    def get_app_list(self, request, app_label=None):
        build = super().get_app_list
        return SimpleLazyObject(lambda: build(request, app_label))


class CenterAdminConfig(AdminConfig):
    default_site = "consentoffice.core.admin_site.CenterAdminSite"
