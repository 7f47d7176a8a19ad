from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "lbsup.playbooks"
