from django.urls import path

from members import views

app_name = "partners"
urlpatterns = [
    path("<slug:code>/member-changes", views.member_changes, name="member_changes"),
]
