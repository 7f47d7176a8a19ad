"""Everything the ticket page shows, gathered in a fixed, small number of queries."""

import nh3
from django.apps import apps
from django.db.models import Q
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from lbsup.assist.guardrails import GAP_PATTERN
from lbsup.audit.models import AuditEvent
from lbsup.drafts.models import Draft
from lbsup.intake.mail_html import LINK_SCHEMES, link_attribute_filter
from lbsup.outbound.actions import default_cc
from lbsup.playbooks.active import NoActivePlaybook, active_playbook
from lbsup.tickets.models import Direction, Status
from lbsup.triage.highlight import evidence_ranges, evidence_words, highlight
from lbsup.triage.models import TriageRecord
from lbsup.workspaces.models import DESK_ROLES, Membership

from . import queue
from .actions import others_here

HISTORY_LIMIT = 100
EARLIER_TICKETS = 8


def draft_preview(text):
    """The draft as HTML with every [[confirm: …]] gap marked, so the gaps jump out."""
    out, position = [], 0
    for match in GAP_PATTERN.finditer(text or ""):
        out.append(escape(text[position:match.start()]))
        out.append(f'<mark class="gap" title="Fill this in before sending">{escape(match.group(0))}</mark>')
        position = match.end()
    out.append(escape((text or "")[position:]))
    return mark_safe("".join(out).replace("\n", "<br>"))


# Customer HTML was sanitized at intake; cleaning it again here, without images, is a second
# wall: no tracking pixel or broken relative image fires when a representative opens the mail.
SHOWN_TAGS = nh3.ALLOWED_TAGS - {"img"}


def _thread(ticket):
    thread = list(ticket.messages.select_related("author_user", "author_contact", "outbound")
                  .prefetch_related("attachments"))
    records = {r.message_id: r for r in TriageRecord.objects.filter(ticket=ticket)}
    for message in thread:
        message.triage_record = records.get(message.pk)
        message.highlighted = None
        message.shown_html = mark_safe(nh3.clean(
            message.html, tags=SHOWN_TAGS, url_schemes=LINK_SCHEMES, attribute_filter=link_attribute_filter,
            link_rel="noopener noreferrer")) if message.html else ""
        if message.triage_record:
            result = message.triage_record.result
            message.highlighted = highlight(
                message.text, evidence_ranges(message.text, result.get("details", []), evidence_words(result)))
    latest = max(records.values(), key=lambda r: (r.created_at, r.pk), default=None)
    return thread, latest


def _history(ticket, thread):
    # Events on the ticket itself, its messages and its drafts, and on replies sent for it.
    drafts = [str(pk) for pk in ticket.drafts.values_list("pk", flat=True)]
    return (AuditEvent.objects.filter(workspace_id=ticket.workspace_id)
            .filter(Q(target_type="ticket", target_id=str(ticket.pk))
                    | Q(target_type="message", target_id__in=[str(m.pk) for m in thread])
                    | Q(target_type="draft", target_id__in=drafts)
                    | Q(target_type="outboundemail", data__ticket=ticket.number))
            .select_related("actor_user")[:HISTORY_LIMIT])


def _open_followups(contact):
    """Pending follow-ups on any of this contact's tickets (the followups app's model)."""
    try:
        model = apps.get_model("followups", "FollowUp")
    except LookupError:  # the app has no such model in this install
        return []
    return list(model.objects.filter(ticket__contact=contact, state="pending").select_related("ticket")[:10])


def _draft_panel(ticket, playbook, draft_text=None, blocked=None):
    draft = ticket.drafts.filter(state__in=[Draft.State.PROPOSED, Draft.State.SAVED]).first()
    last_decided = None if draft else ticket.drafts.exclude(state=Draft.State.SUPERSEDED).select_related(
        "decided_by").first()
    if draft is None:
        return {"draft": None, "last_decided": last_decided}
    text = draft.text if draft_text is None else draft_text
    replies = []
    if playbook is not None:
        try:
            replies = [r for r in playbook.category(draft.category).replies if r.id != draft.reply_id]
        except KeyError:
            replies = []
    findings = blocked if blocked is not None else draft.checks
    return {"draft": draft, "draft_text": text, "preview": draft_preview(text), "findings": findings,
            "blocked": blocked, "replies": replies, "last_decided": None}


def ticket_context(request, membership, ticket, params, *, draft_text=None, blocked=None):
    workspace = membership.workspace
    thread, triage = _thread(ticket)
    try:
        _, playbook = active_playbook(workspace)
    except NoActivePlaybook:
        playbook = None
    view = params.get("view", "open")
    try:
        previous, following = queue.neighbours(membership, view, ticket, params.get("q", ""))
    except Exception:  # a view this person may not open (someone else's queue): no j/k, still the page
        previous = following = None
    notes = [m for m in thread if m.direction == Direction.NOTE]
    assistant_note = next((m for m in reversed(notes) if m.author_kind == "assistant"), None)
    contact = ticket.contact
    earlier = list(contact.tickets.exclude(pk=ticket.pk).order_by("-created_at")[:EARLIER_TICKETS])
    people = (Membership.objects.filter(workspace=workspace, role__in=DESK_ROLES).select_related("user")
              .order_by("user__username"))
    result = triage.result if triage else None
    return {
        "workspace": workspace, "membership": membership, "ticket": ticket, "thread": thread, "triage": triage,
        "result": result, "assistant_note": assistant_note, "history": _history(ticket, thread), "earlier": earlier,
        "followups": _open_followups(contact), "people": people, "statuses": Status.choices,
        "categories": playbook.categories if playbook else (), "params": params,
        "query": urlencode(params),
        "previous_number": previous, "next_number": following,
        "others": others_here(ticket, request.user), "summary": (result or {}).get("summary"),
        "inbound": [m for m in thread if m.direction == Direction.INBOUND],
        "cc_choices": default_cc(ticket), "merged_from": list(ticket.merged_from.values_list("number", flat=True)),
        **_draft_panel(ticket, playbook, draft_text, blocked),
    }
