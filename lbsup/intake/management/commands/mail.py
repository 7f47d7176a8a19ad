import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lbsup.intake.actions import do_process, do_store_missing_attachments, messages_missing_attachments
from lbsup.intake.imap import poll_mailbox
from lbsup.intake.models import RawMessage
from lbsup.intake.reconcile import reconcile_mailbox
from lbsup.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Mailbox tools: poll now, or reconcile a mailbox with what was imported."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("poll", "fetch new mail from the workspace's IMAP mailboxes now"),
                           ("reconcile", "list mail on the server that is missing, duplicated or failed here"),
                           ("resume", "process mail that was stored but not processed (after a crash), and write "
                                     "attachment files that did not fit on the disk")):
            command = sub.add_parser(name, help=text)
            command.add_argument("--workspace", required=True)
            if name == "reconcile":
                command.add_argument("--days", type=int, default=7)

    def handle(self, *args, action, workspace, **options):
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}")
        if action == "resume":
            pending = RawMessage.objects.filter(workspace=target, state__in=[RawMessage.State.RECEIVED,
                                                                             RawMessage.State.FAILED])
            for raw_message in pending:
                try:
                    do_process(raw_message)
                except Exception as error:  # noqa: BLE001 - reported; stays failed and visible
                    self.stderr.write(f"raw message {raw_message.pk}: {error}")
                self.stdout.write(f"raw message {raw_message.pk}: {raw_message.state}")
            for message in messages_missing_attachments(target):
                stored = do_store_missing_attachments(message)
                self.stdout.write(f"message {message.pk}: {stored} missing attachment file(s) stored")
            return
        mailboxes = list(target.mailboxes.filter(enabled=True))
        if not mailboxes:
            raise CommandError(f"{workspace} has no IMAP mailbox configured")
        if action == "poll":
            errors = []
            for mailbox in mailboxes:
                report = poll_mailbox(mailbox)
                mailbox.refresh_from_db()
                self.stdout.write(f"{mailbox}: fetched {report.fetched}, stored {report.stored}, "
                                  f"failed {len(report.failed)}" + (f" — {mailbox.last_error}" if mailbox.last_error else ""))
                if mailbox.last_error:
                    errors.append(f"{mailbox}: {mailbox.last_error}")
            if errors:
                raise CommandError("; ".join(errors))
            return
        since = timezone.now() - datetime.timedelta(days=options["days"])
        trouble = False
        for mailbox in mailboxes:
            report = reconcile_mailbox(mailbox, since)
            trouble |= not report.ok
            self.stdout.write(f"{report.mailbox}: {report.on_server} on the server, {report.stored} stored")
            if report.error:
                self.stdout.write(f"  error: {report.error}")
            for uid, subject in report.missing:
                self.stdout.write(f"  missing: UID {uid} {subject!r}")
            for key in report.duplicated:
                self.stdout.write(f"  duplicated: {key}")
            for raw_id in report.failed:
                self.stdout.write(f"  not processed: raw message {raw_id}")
            if report.ok:
                self.stdout.write("  nothing missing, duplicated or failed")
        if trouble:
            raise CommandError("the mailbox and lbsup disagree (see above)")
