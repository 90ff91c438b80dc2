from django.urls import path, re_path

from risk.threads import views

app_name = "threads"

urlpatterns = [
    path("threads/new/", views.thread_new, name="new"),
    re_path(r"^threads/(?P<pk>[0-9]{1,18})/$", views.thread_detail, name="detail"),
]
