import difflib

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from lbsup.assist.playbook import PlaybookError, Problem, load_playbook
from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM, is_person
from lbsup.workspaces.models import Membership, Role

from .models import PlaybookVersion

APPROVER_ROLES = (Role.LEAD, Role.ADMIN)


def parse_for_workspace(workspace, text, source="<upload>"):
    """Validate a playbook file and that it is written for this workspace."""
    playbook = load_playbook(text, source=source)
    if playbook.workspace != workspace.slug:
        raise PlaybookError(source, [Problem(1, "workspace", f"this playbook is for {playbook.workspace!r}, "
                                                             f"not {workspace.slug!r}")])
    return playbook


def _is_approver(actor, workspace):
    return is_person(actor) and Membership.objects.filter(
        workspace=workspace, user=actor, role__in=APPROVER_ROLES).exists()


def do_upload_playbook(actor, workspace, text, *, note="", source="<upload>"):
    """Store a new version, pending approval. A lead or admin uploads; so may SYSTEM, which
    is the operator's command line and the demo loader. Invalid files raise PlaybookError
    and store nothing."""
    if actor != SYSTEM and not _is_approver(actor, workspace):
        raise PermissionError("Only a lead or admin of this workspace can upload a playbook")
    text = normalized_text(text)
    # Checked before the transaction: on SQLite, BEGIN IMMEDIATE takes the database-wide
    # write lock, so a slow check inside it would stall every workspace's intake and desk.
    playbook = parse_for_workspace(workspace, text, source)
    with transaction.atomic():
        last = PlaybookVersion.objects.filter(workspace=workspace).aggregate(n=Max("number"))["n"] or 0
        version = PlaybookVersion.objects.create(
            workspace=workspace, number=last + 1, text=text, content_hash=playbook.content_hash,
            uploaded_by=actor if is_person(actor) else None, note=note,
        )
        record_event(workspace, actor, "playbook.uploaded", version, number=version.number,
                     hash=playbook.content_hash)
    return version


@transaction.atomic
def do_approve_playbook(actor, version):
    """A lead or admin of the workspace makes a pending version the active one."""
    workspace = version.workspace
    if not _is_approver(actor, workspace):
        raise PermissionError("Only a lead or admin of this workspace can approve a playbook")
    version = PlaybookVersion.objects.select_for_update().get(pk=version.pk)
    if version.state != PlaybookVersion.State.PENDING:
        raise ValueError(f"Version {version.number} is {version.get_state_display().lower()}, not pending")
    refusal = self_approval_refusal(actor, version)
    if refusal:
        raise PermissionError(refusal)
    self_approved = version.uploaded_by_id == actor.pk
    previous = PlaybookVersion.objects.filter(workspace=workspace, state=PlaybookVersion.State.ACTIVE).first()
    if previous:
        previous.state = PlaybookVersion.State.SUPERSEDED
        previous.save(update_fields=["state"])
    version.state = PlaybookVersion.State.ACTIVE
    version.approved_by = actor
    version.approved_at = timezone.now()
    version.self_approved = self_approved
    version.save(update_fields=["state", "approved_by", "approved_at", "self_approved"])
    record_event(workspace, actor, "playbook.approved", version, number=version.number,
                 superseded=previous.number if previous else None, self_approved=self_approved)
    return version


def self_approval_refusal(actor, version):
    """Why `actor` may not approve the version they uploaded themselves (four eyes on the rules
    every reply follows), or None.  A workspace with a single lead or admin has nobody else to
    ask: they may, and the version says so."""
    if version.uploaded_by_id is None or version.uploaded_by_id != getattr(actor, "pk", None):
        return None
    others = sorted(Membership.objects.filter(workspace=version.workspace, role__in=APPROVER_ROLES,
                                              user__is_active=True).exclude(user=actor)
                    .values_list("user__username", flat=True))
    if not others:
        return None
    return (f"You uploaded version {version.number}; another lead or admin approves it "
            f"({', '.join(others[:5])}{', …' if len(others) > 5 else ''}).")


def normalized_text(text):
    """One form for every file: Windows line ends and a byte-order mark would otherwise show every
    line as changed against a version saved elsewhere."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@transaction.atomic
def do_reject_playbook(actor, version, reason):
    reason = reason.strip()
    if not reason:
        raise ValueError("Say why the version is rejected")
    if version.state != PlaybookVersion.State.PENDING:
        raise ValueError("Only a pending version can be rejected")
    version.state = PlaybookVersion.State.REJECTED
    version.note = reason
    version.save(update_fields=["state", "note"])
    record_event(version.workspace, actor, "playbook.rejected", version, number=version.number, reason=reason)
    return version


def playbook_diff(old, new):
    """Unified diff between two versions' files (old may be None for the first one)."""
    before = normalized_text(old.text).splitlines(keepends=True) if old else []
    return "".join(difflib.unified_diff(
        before, normalized_text(new.text).splitlines(keepends=True),
        fromfile=f"v{old.number}" if old else "(none)", tofile=f"v{new.number}",
    ))
