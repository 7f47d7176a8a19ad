from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.latest, name="latest"),
    path("schedule/", views.schedule, name="schedule"),
    path("<str:date>/", views.summary, name="summary"),
    path("<str:date>/tickets/", views.figure_tickets, name="figure_tickets"),
    path("<str:date>/summary.csv", views.summary_csv, name="summary_csv"),
    path("<str:date>/email/", views.email_preview, name="email_preview"),
]
