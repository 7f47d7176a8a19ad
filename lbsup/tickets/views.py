from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from lbsup.triage.highlight import evidence_ranges, evidence_words, highlight
from lbsup.triage.models import TriageRecord
from lbsup.workspaces.access import membership_or_404

from .models import Status, Ticket

PAGE_SIZE = 50


@login_required
def ticket_list(request, slug):
    membership = membership_or_404(request.user, slug)
    workspace = membership.workspace
    tickets = (
        Ticket.objects.filter(workspace=workspace)
        .select_related("contact", "team", "assignee")
        .order_by("-priority", "-last_message_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        tickets = tickets.filter(status=status)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/ticket_list.html",
        {"workspace": workspace, "membership": membership, "page": page, "statuses": Status.choices, "status": status},
    )


@login_required
def ticket_detail(request, slug, number):
    membership = membership_or_404(request.user, slug)
    ticket = get_object_or_404(
        Ticket.objects.select_related("contact", "contact__company", "team", "assignee"),
        workspace=membership.workspace,
        number=number,
    )
    messages = list(ticket.messages.select_related("author_user", "author_contact").prefetch_related("attachments"))
    records = {r.message_id: r for r in TriageRecord.objects.filter(ticket=ticket)}
    for message in messages:
        message.triage_record = records.get(message.pk)
        if message.triage_record:
            result = message.triage_record.result
            message.highlighted = highlight(
                message.text, evidence_ranges(message.text, result["details"], evidence_words(result))
            )
    latest = max(records.values(), key=lambda r: (r.created_at, r.pk), default=None)
    history = ticket.workspace.audit_events.filter(target_type="ticket", target_id=str(ticket.pk)).select_related(
        "actor_user"
    )
    return render(
        request,
        "tickets/ticket_detail.html",
        {"workspace": membership.workspace, "membership": membership, "ticket": ticket, "thread": messages,
         "history": history[:100], "triage": latest},
    )
