"""The untuned admin the tuned one is compared with: a plain ``ModelAdmin`` of ``Member`` on a
throwaway ``AdminSite``, and the bench's URLconf that mounts it under ``/bench-plain/`` (only while
the bench runs)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from members.models import Member

PLAIN_SITE = admin.AdminSite(name="bench_plain")


class PlainMemberAdmin(admin.ModelAdmin):
    """What ``admin.ModelAdmin`` gives out of the box, searching the same fields."""

    list_display = (
        "member_no",
        "family_name",
        "given_name",
        "family_name_kana",
        "phone",
        "prefecture",
        "status",
    )
    list_filter = ("status", "prefecture", "gender")
    search_fields = (
        "member_no",
        "phone",
        "family_name_kana",
        "given_name_kana",
        "family_name",
        "given_name",
        "email",
    )


PLAIN_SITE.register(Member, PlainMemberAdmin)


# The bench's URLconf: the project's URLs plus the plain admin under /bench-plain/.
urlpatterns = [path("bench-plain/", PLAIN_SITE.urls), path("", include("consentoffice.urls"))]
BENCH_URLCONF = __name__
