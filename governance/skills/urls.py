from django.urls import path, re_path

from governance.skills import views

app_name = "skills"

urlpatterns = [
    path("skills/", views.skills_home, name="home"),
    path("skills/me/", views.my_skills, name="mine"),
    path("skills/requirements/new/", views.requirement_new, name="requirement-new"),
    path("skills/completions/new/", views.completion_new, name="completion-new"),
    re_path(r"^skills/requirements/(?P<pk>[0-9]{1,18})/retire/$", views.requirement_retire, name="requirement-retire"),
]
