"""``/audit/``: the supervisors' audit pages (DESIGN.md URLs)."""

from urllib.parse import unquote

from django.urls import path, register_converter

from consentoffice.audit import views


class MemberNumberConverter:
    """Any member number, also one typed before numbers had one format (``1/2``, ``<b>x</b>``):
    a slash travels as ``%2F`` so the timeline of every member stays reachable."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        # Only what would end the path segment or be read as an escape; reverse() quotes the rest.
        return str(value).replace("%", "%25").replace("/", "%2F")


register_converter(MemberNumberConverter, "member_no")

app_name = "audit"
urlpatterns = [
    path("", views.HistoryListView.as_view(), name="history"),
    path("export.csv", views.HistoryExportView.as_view(), name="history_export"),
    path("history/<str:label>/<int:history_id>/", views.HistoryDetailView.as_view(), name="history_detail"),
    path("members/<member_no:member_no>/", views.TimelineView.as_view(), name="timeline"),
    path(
        "members/<member_no:member_no>/export.csv", views.TimelineExportView.as_view(), name="timeline_export"
    ),
    path("access/", views.AccessLogListView.as_view(), name="access"),
    path("access/export.csv", views.AccessLogExportView.as_view(), name="access_export"),
]
