from django.urls import path

from . import views

urlpatterns = [
    path("", views.ticket_list, name="ticket_list"),
    path("tickets/<int:number>/", views.ticket_detail, name="ticket_detail"),
]
