from django.urls import path

from . import views

urlpatterns = [
    path("", views.followup_list, name="followups"),
    path("tickets/<int:number>/snooze/", views.snooze, name="followup_snooze"),
    path("tickets/<int:number>/nudge/", views.nudge, name="followup_nudge"),
    path("<int:pk>/cancel/", views.cancel, name="followup_cancel"),
]
