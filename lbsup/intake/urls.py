from django.urls import path

from . import views

urlpatterns = [
    path("", views.inbound_mail, name="inbound_mail"),
    path("<int:pk>/retry/", views.retry_raw_message, name="retry_raw_message"),
    path("<int:pk>/accept/", views.accept_filtered, name="accept_filtered"),
    path("<int:pk>/source/", views.raw_message_source, name="raw_message_source"),
    path("<int:pk>/assign/", views.assign_raw_message, name="assign_raw_message"),
    path("reconcile/", views.reconcile, name="reconcile_mail"),
]
