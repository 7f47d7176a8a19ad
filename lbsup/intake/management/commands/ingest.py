from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lbsup.intake.actions import INGEST_BATCH, do_ingest_batch
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
        for first in range(0, len(files), INGEST_BATCH):
            names, raws, sources = [], [], []
            for name in files[first:first + INGEST_BATCH]:
                try:
                    raws.append(Path(name).read_bytes())
                except OSError as error:
                    problems += 1
                    self.stderr.write(f"{name}: {error}")
                    continue
                names.append(name)
                sources.append({"file": Path(name).name})
            for name, item in zip(names, do_ingest_batch(target, raws, channel=InboundChannel.EML, sources=sources)):
                raw_message = item.raw_message
                if raw_message is None:
                    problems += 1
                    self.stderr.write(f"{name}: {item.error}")
                elif item.error:  # stored as failed, shown with a retry button
                    problems += 1
                    self.stderr.write(f"{name}: stored, but processing failed: {item.error}")
                else:
                    where = f" → ticket #{raw_message.message.ticket.number}" if raw_message.message_id else ""
                    detail = f" ({raw_message.detail})" if raw_message.detail else ""
                    self.stdout.write(f"{name}: {raw_message.state}{where}{detail}")
        if problems:
            raise CommandError(f"{problems} of {len(files)} file(s) could not be imported")
