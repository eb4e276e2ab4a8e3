from django.contrib import admin
from django.urls import include, path

from consentoffice import metrics, views
from consentoffice.accounts import views as account_views
from consentoffice.core import converters  # noqa: F401  (registers <member_no:…>)
from consentoffice.home import views as home_views
from consentoffice.home import workspace
from members import extract_views
from members import list_views as member_list_views

urlpatterns = [
    path("", home_views.home, name="home"),
    path("notifications/read/", home_views.notifications_read, name="notifications_read"),
    path("dashboard/", home_views.dashboard, name="dashboard"),
    path("members/", member_list_views.member_list, name="member_list"),
    path("members/extract/", extract_views.extract_page, name="member_extract"),
    path("members/extract/download/", extract_views.extract_download, name="member_extract_download"),
    path("members/<member_no:member_no>/", workspace.workspace, name="member_workspace"),
    path(
        "members/<member_no:member_no>/change-notification/",
        workspace.change_notification,
        name="member_change_notification",
    ),
    path("members/<member_no:member_no>/contact-note/", workspace.contact_note, name="member_contact_note"),
    path("members/<member_no:member_no>/open-ticket/", workspace.open_ticket, name="member_open_ticket"),
    path("account/otp/", account_views.otp_verify, name="otp_verify"),
    path("account/otp/setup/", account_views.otp_setup, name="otp_setup"),
    path("security/enrolment-codes/", account_views.enrolment_codes, name="enrolment_codes"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", views.healthz, name="healthz"),
    path("metrics/", metrics.metrics_view, name="metrics"),
    path("partners/", include("members.urls")),
    path("requests/", include("requests.urls")),
    path("audit/", include("consentoffice.audit.urls")),
    # Before the admin's own URLs: the same login page, landing on the operator home.
    path("admin/login/", account_views.login, name="account_login"),
    path("admin/", admin.site.urls),
]

handler500 = "consentoffice.views.server_error"
