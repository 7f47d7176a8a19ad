from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lbsup.tickets.history_import import HistoryImportError, import_history
from lbsup.workspaces.models import Workspace


class Command(BaseCommand):
    help = ("Import past tickets and messages from a Zendesk, Freshdesk or Help Scout CSV export "
            "(detected from the header row). Safe to run again: what was imported is skipped.")

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument("file", help="the CSV export")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(self, *args, workspace, file, no_progress=False, **options):
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}")
        try:
            with Path(file).open(encoding="utf-8-sig", newline="") as stream:
                result = import_history(target, stream, progress=not no_progress)
        except (OSError, UnicodeDecodeError, HistoryImportError) as error:
            raise CommandError(f"{file}: {error}")
        for problem in result.problems:
            self.stderr.write(f"{file}:{problem}")
        self.stdout.write(
            f"{target.slug}: {result.source} export, {result.tickets_seen} tickets "
            f"({result.tickets_created} new), {result.messages_created} messages imported, "
            f"{result.messages_skipped} already there, {result.notes_skipped} notes skipped, "
            f"{len(result.problems)} rows with problems"
        )
