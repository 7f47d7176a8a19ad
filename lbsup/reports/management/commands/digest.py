from django.core.management.base import BaseCommand, CommandError

from lbsup.reports.actions import digest_recipients, do_send_digest, render_digest
from lbsup.reports.days import parse_day
from lbsup.reports.figures import build_summary
from lbsup.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Build a workspace's daily summary and print it; --send emails it to the owners (once per day)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the day, in the workspace's time zone")
        parser.add_argument("--send", action="store_true", help="email it (skipped if this day's was already sent)")
        parser.add_argument("--html", action="store_true", help="print the HTML part instead of the text part")

    def handle(self, *args, workspace, date, send=False, html=False, **options):
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}")
        try:
            day = parse_day(date)
        except ValueError as error:
            raise CommandError(str(error))
        email = render_digest(target, build_summary(target, day), recipients=digest_recipients(target))
        self.stdout.write(email.html if html else email.text)
        if send:
            outcome = do_send_digest(target, day)
            message = f"{target.slug} {day}: {outcome.reason}"
            if outcome.recipients:
                message += f" ({', '.join(outcome.recipients)})"
            if outcome.sent:
                self.stderr.write(message)
            else:
                raise CommandError(message)
