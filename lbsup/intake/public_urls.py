from django.urls import path

from . import views

urlpatterns = [
    path("<slug:workspace_slug>/", views.contact_form, name="contact_form"),
    path("<slug:workspace_slug>/thanks/", views.contact_thanks, name="contact_thanks"),
]
