from django.urls import path, re_path

from governance.skills.api import views

urlpatterns = [
    path("skills/requirements/", views.RequirementListView.as_view(), name="skill-requirement-list"),
    re_path(
        r"^skills/requirements/(?P<pk>[0-9]{1,18})/$",
        views.RequirementDetailView.as_view(),
        name="skill-requirement-detail",
    ),
    re_path(
        r"^skills/requirements/(?P<pk>[0-9]{1,18})/retire/$",
        views.RequirementRetireView.as_view(),
        name="skill-requirement-retire",
    ),
    path("skills/completions/", views.CompletionListView.as_view(), name="skill-completion-list"),
    path("skills/me/", views.MySkillsView.as_view(), name="skill-mine"),
]
