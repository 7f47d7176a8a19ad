from django.urls import path

from . import views

# Mounted at /w/<slug>/desk/; the queue and the ticket page themselves live at /w/<slug>/
# and /w/<slug>/tickets/<number>/ (lbsup/tickets/urls.py).
urlpatterns = [
    path("tickets/<int:number>/note/", views.add_note, name="desk_note"),
    path("tickets/<int:number>/assign/", views.assign, name="desk_assign"),
    path("tickets/<int:number>/status/", views.change_status, name="desk_status"),
    path("tickets/<int:number>/category/", views.correct_category, name="desk_category"),
    path("tickets/<int:number>/escalation/", views.set_escalation, name="desk_escalation"),
    path("tickets/<int:number>/split/", views.split_message, name="desk_split"),
    path("tickets/<int:number>/merge/", views.merge_ticket, name="desk_merge"),
    path("tickets/<int:number>/presence/", views.presence, name="desk_presence"),
    path("tickets/<int:number>/drafts/<int:draft_id>/", views.decide_draft, name="desk_draft"),
    path("tickets/<int:number>/drafts/<int:draft_id>/check/", views.check_draft, name="desk_draft_check"),
]
