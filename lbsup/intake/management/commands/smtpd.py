import signal
import threading

from django.core.management.base import BaseCommand

from lbsup.intake.smtp_server import make_controller


class Command(BaseCommand):
    help = "Receive customer mail over SMTP for the workspaces' support addresses."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args, host, port, **options):
        controller = make_controller(host, port)
        controller.start()
        self.stdout.write(f"lbsup smtpd listening on {host}:{port}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        signal.signal(signal.SIGINT, lambda *a: stop.set())
        stop.wait()
        controller.stop()
