from django.urls import path

from . import views

urlpatterns = [
    path("", views.contact_list, name="crm_contacts"),
    path("contacts.csv", views.contacts_csv, name="crm_contacts_csv"),
    path("contacts/<int:pk>/", views.contact_detail, name="crm_contact"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="crm_contact_edit"),
    path("contacts/<int:pk>/flags/", views.contact_flags, name="crm_contact_flags"),
    path("contacts/<int:pk>/merge/", views.contact_merge, name="crm_contact_merge"),
    path("notes/", views.note_list, name="crm_notes"),
    path("notes.csv", views.notes_csv, name="crm_notes_csv"),
    path("notes/<int:pk>/", views.note_review, name="crm_note"),
    path("tickets/<int:number>/note/", views.draft_note, name="crm_draft_note"),
    path("leads/", views.lead_list, name="crm_leads"),
    path("leads/<int:pk>/stage/", views.lead_stage, name="crm_lead_stage"),
]
