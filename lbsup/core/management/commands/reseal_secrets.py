"""Re-seal every stored secret with the newest of LBSUP_SEALING_KEYS, so older keys can be dropped."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from lbsup.core.sealing import SealedTextField, new_key


class Command(BaseCommand):
    help = "Re-seal every stored secret with the first key of LBSUP_SEALING_KEYS (or print a new key)."

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="print a new key to put first in LBSUP_SEALING_KEYS")

    def handle(self, *args, **options):
        if options["new_key"]:
            self.stdout.write(new_key())
            return
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, SealedTextField)]
            if not fields:
                continue
            count = 0
            with transaction.atomic():
                for row in model._base_manager.select_for_update().only("pk", *fields).iterator():
                    # Loading unseals with any key; saving seals with the newest.
                    model._base_manager.filter(pk=row.pk).update(**{name: getattr(row, name) for name in fields})
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} re-sealed")
