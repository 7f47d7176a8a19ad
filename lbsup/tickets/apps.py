from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "lbsup.tickets"
