from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from consentoffice import views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", views.healthz, name="healthz"),
    path("partners/", include("members.urls")),
    path("requests/", include("requests.urls")),
    path("admin/", admin.site.urls),
]
