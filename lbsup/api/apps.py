from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "lbsup.api"

    def ready(self):
        # Login throttling and login audit events (lbsup/core/login.py) are wired here because
        # the API app owns the issue-9 security work; core's AppConfig has no ready() yet.
        from lbsup.core import login

        login.install_admin_throttle()
