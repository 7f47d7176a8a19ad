from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lbsup.intake.actions import MessageTooLarge, do_ingest
from lbsup.intake.models import InboundChannel
from lbsup.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Import .eml files into a workspace (idempotent: a file imported twice is stored once)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True)
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, workspace, files, **options):
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}")
        problems = 0
        for name in files:
            path = Path(name)
            try:
                raw = path.read_bytes()
                raw_message = do_ingest(target, raw, channel=InboundChannel.EML, source={"file": path.name})
            except (OSError, MessageTooLarge) as error:
                problems += 1
                self.stderr.write(f"{name}: {error}")
                continue
            except Exception as error:  # noqa: BLE001 - stored as failed, shown with a retry button
                problems += 1
                self.stderr.write(f"{name}: stored, but processing failed: {error}")
                continue
            where = f" → ticket #{raw_message.message.ticket.number}" if raw_message.message_id else ""
            detail = f" ({raw_message.detail})" if raw_message.detail else ""
            self.stdout.write(f"{name}: {raw_message.state}{where}{detail}")
        if problems:
            raise CommandError(f"{problems} of {len(files)} file(s) could not be imported")
