from django.urls import path, re_path

from risk.threads.api import views

T = r"^threads/(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("threads/", views.ThreadListView.as_view(), name="thread-list"),
    re_path(rf"{T}/$", views.ThreadDetailView.as_view(), name="thread-detail"),
    re_path(rf"{T}/comments/$", views.ThreadCommentsView.as_view(), name="thread-comments"),
    re_path(rf"{T}/comments/(?P<comment_pk>[0-9]{{1,18}})/$", views.CommentDetailView.as_view(), name="thread-comment"),
    re_path(rf"{T}/resolve/$", views.ThreadResolveView.as_view(), name="thread-resolve"),
    re_path(rf"{T}/reopen/$", views.ThreadReopenView.as_view(), name="thread-reopen"),
    re_path(rf"{T}/incident/$", views.ThreadIncidentView.as_view(), name="thread-incident"),
    re_path(rf"{T}/finding/$", views.ThreadFindingView.as_view(), name="thread-finding"),
]
