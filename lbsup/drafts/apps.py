from django.apps import AppConfig


class DraftsConfig(AppConfig):
    name = "lbsup.drafts"
