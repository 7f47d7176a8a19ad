from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "lbsup.crm"
    verbose_name = "CRM"
