"""A contact's history in one list, newest first: tickets, messages, approved notes, follow-ups, leads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MAX_MESSAGES = 200


@dataclass(frozen=True)
class TimelineItem:
    at: dt.datetime
    kind: str  # ticket, inbound, outbound, note, crm_note, followup, lead, recurring
    title: str
    text: str
    ticket_number: int | None


def contact_timeline(contact) -> list[TimelineItem]:
    from lbsup.followups.models import FollowUp
    from lbsup.tickets.models import Message

    items = [TimelineItem(t.created_at, "ticket", f"Ticket #{t.number} opened: {t.subject}",
                          t.get_status_display(), t.number) for t in contact.tickets.all()]
    messages = (Message.objects.filter(ticket__contact=contact).select_related("ticket", "author_user")
                .order_by("-created_at", "-id")[:MAX_MESSAGES])
    for m in messages:
        items.append(TimelineItem(m.created_at, m.direction, f"{m.get_direction_display()} by {m.author_label}",
                                  m.text, m.ticket.number))
    for note in contact.crm_notes.filter(state="approved").select_related("ticket", "approved_by"):
        text = "\n".join(f"{f['name'].replace('_', ' ')}: {f['value']}" for f in note.fields if f["value"])
        items.append(TimelineItem(note.approved_at, "crm_note",
                                  f"CRM note approved by {note.approved_by.get_username() if note.approved_by else '?'}",
                                  text, note.ticket.number))
    for followup in FollowUp.objects.filter(ticket__contact=contact).select_related("ticket"):
        items.append(TimelineItem(followup.created_at, "followup",
                                  f"{followup.get_kind_display()} until {followup.due_at:%Y-%m-%d %H:%M} UTC "
                                  f"({followup.get_state_display().lower()})",
                                  followup.outcome or followup.note, followup.ticket.number))
    for lead in contact.leads.select_related("ticket"):
        items.append(TimelineItem(lead.created_at, "lead", f"Lead ({lead.get_stage_display()})", lead.next_step,
                                  lead.ticket.number))
    for flag in contact.recurring_issues.select_related("ticket"):
        items.append(TimelineItem(flag.created_at, "recurring",
                                  f"Recurring issue: {flag.count}× {flag.category} within {flag.within_days} days",
                                  ", ".join(f"#{n}" for n in flag.ticket_numbers), flag.ticket.number))
    return sorted(items, key=lambda i: i.at, reverse=True)
