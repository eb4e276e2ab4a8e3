"""``/audit/``: the supervisors' audit pages (DESIGN.md URLs)."""

from django.urls import path

from consentoffice.audit import views
from consentoffice.core import converters  # noqa: F401  (registers <member_no:…>)

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
