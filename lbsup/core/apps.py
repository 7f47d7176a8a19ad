from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lbsup.core"

    def ready(self):
        from lbsup.core import sealing  # noqa: F401  registers its deploy check
