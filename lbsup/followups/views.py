import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from lbsup.tickets.models import Ticket
from lbsup.workspaces.access import membership_or_404

from .actions import do_cancel_followup, do_set_nudge, do_snooze
from .desk import open_followups, sla_queue
from .models import FollowUp, SlaEvent


def parse_local(value, workspace):
    """A datetime-local field ("2025-03-10T14:30") in the workspace's time zone."""
    try:
        naive = dt.datetime.fromisoformat((value or "").strip()[:32])
    except ValueError:
        raise ValueError("Give a date and time like 2025-03-10 14:30") from None
    if timezone.is_aware(naive):
        return naive
    return naive.replace(tzinfo=workspace.tz)


@login_required
def followup_list(request, slug):
    membership = membership_or_404(request.user, slug)
    workspace = membership.workspace
    now = timezone.now()
    overdue, due_soon = sla_queue(workspace, now)
    return render(request, "followups/followup_list.html", {
        "workspace": workspace, "membership": membership, "overdue": overdue, "due_soon": due_soon,
        "followups": open_followups(workspace=workspace)[:200],
        "alerts": SlaEvent.objects.filter(workspace=workspace, fired_at__isnull=False).select_related(
            "ticket", "recipient").order_by("-fired_at")[:50],
    })


def _ticket(request, slug, number):
    membership = membership_or_404(request.user, slug)
    return membership, get_object_or_404(Ticket, workspace=membership.workspace, number=number)


def _back(request, slug, number):
    return redirect("ticket_detail", slug=slug, number=number)


@login_required
@require_POST
def snooze(request, slug, number):
    membership, ticket = _ticket(request, slug, number)
    try:
        until = parse_local(request.POST.get("until"), membership.workspace)
        do_snooze(request.user, ticket, until, note=request.POST.get("note", "")[:300])
        messages.success(request, f"Snoozed until {until:%Y-%m-%d %H:%M}.")
    except ValueError as error:
        messages.error(request, str(error))
    return _back(request, slug, number)


@login_required
@require_POST
def nudge(request, slug, number):
    membership, ticket = _ticket(request, slug, number)
    try:
        due = parse_local(request.POST.get("due_at"), membership.workspace)
        do_set_nudge(request.user, ticket, due, note=request.POST.get("note", "")[:300])
        messages.success(request, f"If there is no reply by {due:%Y-%m-%d %H:%M}, a nudge will be drafted.")
    except ValueError as error:
        messages.error(request, str(error))
    return _back(request, slug, number)


@login_required
@require_POST
def cancel(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    followup = get_object_or_404(FollowUp.objects.select_related("ticket"), workspace=membership.workspace, pk=pk)
    try:
        do_cancel_followup(request.user, followup, reason=request.POST.get("reason", "")[:300])
        messages.success(request, "Follow-up cancelled.")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("followups", slug=slug)
