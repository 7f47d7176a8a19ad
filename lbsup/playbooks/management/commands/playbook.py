from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from lbsup.assist.playbook import PlaybookError, load_playbook_file
from lbsup.audit.actors import SYSTEM
from lbsup.playbooks.actions import (
    do_approve_playbook,
    do_upload_playbook,
    playbook_diff,
)
from lbsup.playbooks.models import PlaybookVersion
from lbsup.workspaces.models import Workspace


def _shown(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value or "-"


class Command(BaseCommand):
    help = "Check, load and compare workspace playbooks."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="validate a playbook file; print every problem with its line and field")
        check.add_argument("file")
        load = sub.add_parser("load", help="store a playbook file as a new version (pending unless --approve-as)")
        load.add_argument("--workspace", required=True)
        load.add_argument("--approve-as", metavar="USER", help="a lead or admin of the workspace who approves it now")
        load.add_argument("file")
        diff = sub.add_parser("diff", help="show what changed between two versions (default: active vs newest)")
        diff.add_argument("--workspace", required=True)
        diff.add_argument("old", nargs="?", type=int)
        diff.add_argument("new", nargs="?", type=int)
        replay = sub.add_parser("replay", help="show what a candidate file would change on the last N days of tickets")
        replay.add_argument("--workspace", required=True)
        replay.add_argument("--days", type=int, default=30)
        replay.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
        replay.add_argument("file")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_check(self, file, **options):
        try:
            playbook = load_playbook_file(file)
        except (PlaybookError, OSError) as error:
            self._fail(file, error)
        self.stdout.write(f"{file}: ok — {playbook.version}, {len(playbook.categories)} categories, "
                          f"{len(playbook.training_examples())} examples")

    def handle_load(self, file, workspace, approve_as=None, **options):
        target = self._workspace(workspace)
        approver = None
        if approve_as:
            approver = get_user_model().objects.filter(username=approve_as).first()
            if approver is None:
                raise CommandError(f"No user named {approve_as!r}")
        try:
            text = Path(file).read_text(encoding="utf-8")
            # The operator loads it; the named lead approves it (nobody approves their own upload).
            version = do_upload_playbook(SYSTEM, target, text, source=file)
        except (PlaybookError, OSError, UnicodeDecodeError, PermissionError) as error:
            self._fail(file, error)
        if approver:
            try:
                do_approve_playbook(approver, version)
            except PermissionError as error:
                raise CommandError(f"Stored as version {version.number}, pending: {error}")
            self.stdout.write(f"{target.slug}: version {version.number} stored and approved by {approver}")
        else:
            self.stdout.write(f"{target.slug}: version {version.number} stored, waiting for a lead to approve it")

    def handle_diff(self, workspace, old=None, new=None, **options):
        versions = PlaybookVersion.objects.filter(workspace=self._workspace(workspace))
        if new is None:
            newest = versions.first()
            if newest is None:
                raise CommandError("This workspace has no playbook versions")
            new = newest.number
        if old is None:
            active = versions.filter(state=PlaybookVersion.State.ACTIVE).exclude(number=new).first()
            old = active.number if active else new - 1
        by_number = {v.number: v for v in versions.filter(number__in=[old, new])}
        if new not in by_number:
            raise CommandError(f"No version {new}")
        self.stdout.write(playbook_diff(by_number.get(old), by_number[new]) or "(no changes)")

    def handle_replay(self, file, workspace, days, no_progress=False, **options):
        import sys

        from tqdm import tqdm

        from lbsup.playbooks.actions import parse_for_workspace
        from lbsup.playbooks.replay import FIELDS, replay_playbook

        target = self._workspace(workspace)
        if not 1 <= days <= 365:
            raise CommandError("--days must be between 1 and 365")
        try:
            candidate = parse_for_workspace(target, Path(file).read_text(encoding="utf-8"), source=file)
        except (PlaybookError, OSError, UnicodeDecodeError) as error:
            self._fail(file, error)
        with tqdm(desc="replay", unit="ticket", file=sys.stderr, disable=no_progress) as bar:
            def progress(done, total):
                bar.total = total
                bar.update(done - bar.n)

            report = replay_playbook(target, candidate, days=days, progress=progress)
        for row in report.changed:
            parts = []
            for name in row.changes:
                before, after = (_shown(outcome.value(name)) for outcome in (row.before, row.after))
                parts.append(f"{name} {before} -> {after}")
            self.stdout.write(f"#{row.number} {row.subject[:60]}: " + "; ".join(parts))
        counts = ", ".join(f"{report.counts[name]} {name}" for name in FIELDS)
        self.stdout.write(f"{report.tickets} tickets over {days} days; {len(report.changed)} would change ({counts})")

    def _workspace(self, slug):
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"No workspace {slug!r}")
        return workspace

    def _fail(self, file, error):
        if isinstance(error, PlaybookError):
            for problem in error.problems:
                self.stderr.write(f"{file}:{problem.line}: {problem.path or '(top)'}: {problem.message}")
            raise CommandError(f"{len(error.problems)} problem(s) in {file}")
        raise CommandError(f"{file}: {error}")
