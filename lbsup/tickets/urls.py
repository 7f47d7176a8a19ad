from django.urls import path

from lbsup.desk import views as desk

# The workspace's home is the desk's queue; the pages are built by lbsup.desk.
urlpatterns = [
    path("", desk.queue_page, name="ticket_list"),
    path("tickets/<int:number>/", desk.ticket_page, name="ticket_detail"),
]
