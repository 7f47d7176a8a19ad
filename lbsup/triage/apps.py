from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "lbsup.triage"
