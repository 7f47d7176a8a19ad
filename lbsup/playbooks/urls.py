from django.urls import path

from . import views

app_name = "playbooks"

urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("diff/", views.diff, name="diff"),
    path("v<int:number>/", views.version_detail, name="version"),
    path("v<int:number>/approve/", views.approve, name="approve"),
    path("v<int:number>/reject/", views.reject, name="reject"),
    path("v<int:number>/replay/", views.start_replay, name="start_replay"),
    path("replays/<int:run_id>/", views.replay_detail, name="replay"),
    path("replays/<int:run_id>/progress.json", views.replay_progress, name="replay_progress"),
]
