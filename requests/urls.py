from django.urls import path

from requests import views

app_name = "requests"
urlpatterns = [
    path("packages/<int:pk>/download/", views.download_package, name="download_package"),
    path("tickets/<int:pk>/reply-letter/", views.reply_letter, name="reply_letter"),
    path("postal-codes/<str:code>/", views.postal_code, name="postal_code"),
]
