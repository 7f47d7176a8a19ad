from django.urls import path

from . import views

urlpatterns = [
    path("", views.inbound_mail, name="inbound_mail"),
    path("<int:pk>/retry/", views.retry_raw_message, name="retry_raw_message"),
    path("<int:pk>/accept/", views.accept_filtered, name="accept_filtered"),
    path("reconcile/", views.reconcile, name="reconcile_mail"),
]
