"""Drafts: proposed by the assistant, decided by a person. Approval sends through outbound."""

from django.db import transaction
from django.utils import timezone

from lbsup.assist.drafts import edit_distance_ratio
from lbsup.assist.summarize import summarize_thread
from lbsup.audit.actions import record_event
from lbsup.audit.actors import ASSISTANT, is_person
from lbsup.outbound.actions import Unsendable, do_approve_and_send, recipient_problem
from lbsup.outbound.models import OutboundEmail
from lbsup.playbooks.active import active_playbook
from lbsup.tickets.models import Direction
from lbsup.triage.engine import message_input
from lbsup.webhooks.actions import do_emit

from .engine import check_text, make_draft
from .models import Draft

SUMMARY_FROM_MESSAGES = 4  # "threads of more than a few messages"


class GuardrailBlocked(ValueError):
    def __init__(self, findings):
        self.findings = findings
        super().__init__("; ".join(f["message"] for f in findings))


def thread_summary(ticket):
    thread = [m for m in ticket.messages.exclude(direction=Direction.NOTE).order_by("created_at", "id")]
    if len(thread) < SUMMARY_FROM_MESSAGES:
        return None
    return summarize_thread(thread)


@transaction.atomic
def do_propose_draft(message, triage_result, *, reply_id=None, actor=ASSISTANT):
    """The assistant's first-pass reply for an inbound message; older open drafts are superseded."""
    ticket = message.ticket
    version, playbook = active_playbook(ticket.workspace)
    draft = make_draft(message_input(message), triage_result, playbook, ticket.contact, reply_id=reply_id)
    Draft.objects.filter(ticket=ticket, state__in=[Draft.State.PROPOSED, Draft.State.SAVED]).update(
        state=Draft.State.SUPERSEDED)
    data = draft.to_dict()
    stored = Draft.objects.create(
        workspace=ticket.workspace, ticket=ticket, message=message, playbook_version=version,
        category=draft.category, reply_id=draft.reply_id or "", source=draft.source,
        fallback_reason=draft.fallback_reason[:300], proposed_text=draft.text, text=draft.text,
        missing=data["missing"], filled=data["filled"], checks=data["checks"] + address_findings(ticket.contact),
        alternatives=data["alternatives"],
    )
    record_event(ticket.workspace, actor, "draft.proposed", stored, ticket=ticket.number, reply=draft.reply_id,
                 source=draft.source, missing=data["missing"])
    return stored, draft


def address_findings(contact):
    """A finding when the reply could not reach this contact's address (not valid, or Unicode
    before the @ with a mail server without SMTPUTF8), so the reviewer sees it while drafting."""
    address = contact.primary_email
    problem = recipient_problem(address) if address else None
    if not problem:
        return []
    return [{"kind": "address", "rule": "recipient_unreachable", "evidence": [address], "message": problem,
             "blocking": True}]


def _recheck(draft, text):
    _, playbook = active_playbook(draft.workspace)
    findings = check_text(text, playbook=playbook, category=draft.category, reply_id=draft.reply_id,
                          message_text=draft.message.text, contact=draft.ticket.contact,
                          quoted_text=draft.message.quoted_text)
    return [f.to_dict() for f in findings] + address_findings(draft.ticket.contact)


def check_edit(draft, text):
    """Live guardrail findings for the editor (no write)."""
    return _recheck(draft, text)


@transaction.atomic
def do_save_draft(actor, draft, text):
    if not is_person(actor):
        raise PermissionError("People edit drafts")
    if not draft.is_open:
        raise ValueError(f"This draft is {draft.get_state_display().lower()}")
    draft.text, draft.checks, draft.state = text, _recheck(draft, text), Draft.State.SAVED
    draft.save(update_fields=["text", "checks", "state", "updated_at"])
    record_event(draft.workspace, actor, "draft.saved", draft, ticket=draft.ticket.number)
    return draft


def do_choose_reply(actor, draft, reply_id):
    """Switch to another approved reply of the same category (a new draft replaces this one)."""
    if not is_person(actor):
        raise PermissionError("People choose replies")
    from lbsup.triage.actions import current_triage

    return do_propose_draft(draft.message, current_triage(draft.message), reply_id=reply_id, actor=actor)[0]


def do_approve_draft(actor, draft, text, *, override_reason="", cc=None):
    """A person approves (possibly edited) text; guardrails run again on it. Blocking findings
    stop it unless the person overrides with a reason. Two approvals send one email."""
    if not is_person(actor):
        raise PermissionError("Only a person approves a reply")
    to_email = draft.ticket.contact.primary_email
    problem = recipient_problem(to_email) if to_email else None
    if problem:  # no override reason makes an unreachable address reachable
        raise Unsendable(problem)
    findings = _recheck(draft, text)
    blocking = [f for f in findings if f.get("blocking")]
    if blocking and not override_reason.strip():
        raise GuardrailBlocked(blocking)
    with transaction.atomic():
        now = timezone.now()
        claimed = Draft.objects.filter(pk=draft.pk, state__in=[Draft.State.PROPOSED, Draft.State.SAVED]).update(
            state=Draft.State.APPROVED, decided_by=actor, decided_at=now, text=text, sent_text=text, checks=findings,
            seconds_to_decide=(now - draft.created_at).total_seconds(),
            edit_size=edit_distance_ratio(draft.proposed_text, text), reason=override_reason.strip(),
        )
        if not claimed:
            draft.refresh_from_db()
            if draft.state != Draft.State.APPROVED:
                raise ValueError(f"This draft is {draft.get_state_display().lower()}")
            # approved a moment ago by someone else: the first approval's send stands
            return draft
        draft.refresh_from_db()
        if blocking:
            record_event(draft.workspace, actor, "draft.guardrail_overridden", draft, reason=override_reason,
                         findings=[f["rule"] for f in blocking])
        record_event(draft.workspace, actor, "draft.approved", draft, ticket=draft.ticket.number,
                     reply=draft.reply_id, edit_size=round(draft.edit_size, 4))
        do_emit(draft.workspace, "draft.approved", {
            "ticket": draft.ticket.number, "draft": draft.pk, "reply_id": draft.reply_id,
            "approved_by": actor.get_username(), "edit_size": draft.edit_size,
            "guardrail_override": override_reason.strip() or None})
        do_approve_and_send(actor, draft.ticket, text=text, approval_key=f"draft-{draft.pk}", cc=cc)
    return draft


def already_approved_notice(draft, actor):
    """For a person whose approval found the draft approved by someone else: who sent it,
    and when (in the workspace's time), instead of a plain "sent". None when `actor` is the
    one who approved it (their approval, or their own second click)."""
    if draft.state != Draft.State.APPROVED or draft.decided_by_id in (None, actor.pk):
        return None
    who = draft.decided_by.get_full_name() or draft.decided_by.get_username()
    outbound = OutboundEmail.objects.filter(workspace_id=draft.workspace_id, approval_key=f"draft-{draft.pk}").first()
    if outbound is not None and outbound.state == OutboundEmail.State.SENT and outbound.sent_at:
        return f"Already sent by {who} at {_local_time(draft.workspace, outbound.sent_at)}; nothing else was sent."
    said = f"Already approved by {who} at {_local_time(draft.workspace, draft.decided_at)}"
    if outbound is None or outbound.state in (OutboundEmail.State.APPROVED, OutboundEmail.State.SENDING):
        return f"{said}; the reply is on its way and nothing else was sent."
    if outbound.state == OutboundEmail.State.FAILED:
        return f"{said}; sending it failed ({outbound.last_error[:200]}). Nothing else was sent."
    return f"{said}; whether it went out needs a person to check. Nothing else was sent."


def _local_time(workspace, moment):
    local = timezone.localtime(moment, workspace.tz)
    if local.date() == timezone.localtime(timezone.now(), workspace.tz).date():
        return f"{local:%H:%M}"
    return f"{local:%H:%M} on {local:%Y-%m-%d}"


@transaction.atomic
def do_reject_draft(actor, draft, reason):
    if not is_person(actor):
        raise PermissionError("Only a person rejects a draft")
    if not reason.strip():
        raise ValueError("Say why the draft is rejected")
    now = timezone.now()
    if not Draft.objects.filter(pk=draft.pk, state__in=[Draft.State.PROPOSED, Draft.State.SAVED]).update(
            state=Draft.State.REJECTED, decided_by=actor, decided_at=now, reason=reason,
            seconds_to_decide=(now - draft.created_at).total_seconds()):
        raise ValueError("This draft was already decided")
    draft.refresh_from_db()
    record_event(draft.workspace, actor, "draft.rejected", draft, reason=reason, reply=draft.reply_id)
    return draft
