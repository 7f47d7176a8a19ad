from django.core.management import call_command
from django.core.management.base import BaseCommand

from lbsup.demo.loader import DEMO_USERS, load_demo


class Command(BaseCommand):
    help = "Load the demo businesses (idempotent) and serve them, or just load with --no-serve."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="load and exit")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        load_demo(stdout=self.stdout)
        self.stdout.write("\nDemo logins (username / password):")
        for user in DEMO_USERS:
            roles = ", ".join(f"{role} of {slug}" for slug, role in user.roles.items())
            self.stdout.write(f"  {user.username:<13} {user.password:<18} {roles}")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])
