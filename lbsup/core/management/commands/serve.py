"""Web server and background worker together, for a one-machine install."""

import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Run the web server (gunicorn) and the job worker (huey) together until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--no-worker", action="store_true", help="web only (run `lbsup run_huey` elsewhere)")

    def handle(self, *args, **options):
        connection.ensure_connection()  # fail here, with one line, rather than in every child
        connection.close()
        web = [
            sys.executable, "-m", "gunicorn", "lbsup.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}",
            "--workers", str(options["web_workers"]), "--threads", "4",
            "--access-logfile", "-", "--graceful-timeout", "10",
        ]
        children = [subprocess.Popen(web)]
        if not options["no_worker"]:
            children.append(subprocess.Popen([sys.executable, "-m", "lbsup.cli", "run_huey", "--flush-locks"]))
        self.stdout.write(f"lbsup is serving on http://{options['host']}:{options['port']}/ (Ctrl+C stops)")

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            # If either half dies the install is broken: stop the other and say so.
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            sys.exit(f"lbsup serve: a child process exited with code {failed[0].returncode}")
