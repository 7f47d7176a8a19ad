"""The review desk: the queue, the ticket page and one POST endpoint per action.

Every view starts with membership_or_404 (owners get 403, outsiders 404); every POST is
CSRF-protected by the middleware and goes through an app's do_* action, which writes the
audit event. Forms work as plain POST + redirect; htmx only makes some of them partial."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from lbsup.drafts.actions import (
    GuardrailBlocked,
    already_approved_notice,
    check_edit,
    do_approve_draft,
    do_choose_reply,
    do_reject_draft,
    do_save_draft,
)
from lbsup.drafts.models import Draft
from lbsup.outbound.actions import NothingToSend, Unsendable
from lbsup.playbooks.active import NoActivePlaybook, active_playbook
from lbsup.tickets.actions import (
    do_add_note,
    do_assign,
    do_change_status,
    do_merge_tickets,
    do_split_message,
)
from lbsup.tickets.models import Status, Ticket
from lbsup.triage.actions import do_correct_category, do_set_escalation
from lbsup.workspaces.access import membership_or_404
from lbsup.workspaces.models import DESK_ROLES

from . import queue, rows
from .actions import do_mark_viewing, others_here
from .ticket_page import draft_preview, ticket_context

MAX_TEXT = 20_000  # a reply or note longer than this is a paste accident, not a message


def _queue_params(request):
    """The queue a ticket was opened from, carried along so j/k and "back" stay in it."""
    params = {}
    for name in ("view", "q"):
        value = request.GET.get(name) or request.POST.get(name) or ""
        if value:
            params[name] = value[:200]
    return params


def _ticket_url(workspace, number, params):
    url = reverse("ticket_detail", args=[workspace.slug, number])
    return f"{url}?{urlencode(params)}" if params else url


@login_required
@require_GET
def queue_page(request, slug):
    membership = membership_or_404(request.user, slug)
    view = request.GET.get("view", "")
    status = request.GET.get("status", "")
    if not view and status in Status.values:
        view = f"status:{status}"
    view = view or "open"
    text = request.GET.get("q", "")
    result = queue.page(membership, view, text=text, cursor=request.GET.get("after", ""))
    rows.decorate(result.tickets)
    views, teams, categories, people = queue.views_with_counts(membership)
    params = {k: v for k, v in {"view": view, "q": result.query.text}.items() if v}
    labels = {v.key: v.label for v in [*views, *teams, *categories, *people]}
    view_label = labels.get(view) or view.partition(":")[2].replace("_", " ").capitalize() or "All open"
    context = {
        "workspace": membership.workspace, "membership": membership, "page": result, "view": view, "status": status,
        "view_label": view_label, "views": views, "teams": teams, "categories": categories, "people": people, "params": params,
        "ticket_query": urlencode(params), "next_query": urlencode({**params, "after": result.next_cursor or ""}),
        "first_page": not request.GET.get("after"),
    }
    template = "desk/_queue_rows.html" if request.headers.get("HX-Request") else "desk/queue.html"
    return render(request, template, context)


@login_required
@require_GET
def ticket_page(request, slug, number):
    membership = membership_or_404(request.user, slug)
    ticket = _ticket(membership, number)
    do_mark_viewing(ticket, request.user)
    return render(request, "desk/ticket.html", ticket_context(request, membership, ticket, _queue_params(request)))


def _ticket(membership, number):
    return get_object_or_404(
        Ticket.objects.select_related("contact", "contact__company", "team", "assignee", "workspace"),
        workspace=membership.workspace, number=number,
    )


def ticket_action(view):
    """Login, desk membership, the ticket of this workspace, POST only; errors from the
    action come back as a message on the ticket page instead of a crash."""

    @login_required
    @require_POST
    @wraps(view)
    def wrapper(request, slug, number, **kwargs):
        membership = membership_or_404(request.user, slug, roles=DESK_ROLES)
        ticket = _ticket(membership, number)
        params = _queue_params(request)
        try:
            response = view(request, membership, ticket, **kwargs)
        except (ValueError, PermissionError, NoActivePlaybook) as error:
            messages.error(request, str(error))
            response = None
        return response or redirect(_ticket_url(membership.workspace, ticket.number, params))

    return wrapper


def _text(request, name):
    value = request.POST.get(name, "")
    if len(value) > MAX_TEXT:
        raise ValueError(f"That is longer than {MAX_TEXT:,} characters")
    return value


@ticket_action
def add_note(request, membership, ticket):
    do_add_note(request.user, ticket, _text(request, "text"))
    messages.success(request, "Note added.")


@ticket_action
def assign(request, membership, ticket):
    username = request.POST.get("assignee", "")
    if username == "me":
        assignee = request.user
    elif username:
        assignee = get_user_model().objects.filter(
            username=username, memberships__workspace=membership.workspace,
            memberships__role__in=DESK_ROLES).first()
        if assignee is None:
            raise ValueError(f"{username} does not work tickets in {membership.workspace.name}")
    else:
        assignee = None
    do_assign(request.user, ticket, assignee)
    messages.success(request, f"Assigned to {assignee.get_username()}." if assignee else "Unassigned.")


@ticket_action
def change_status(request, membership, ticket):
    do_change_status(request.user, ticket, request.POST.get("status", ""), reason=_text(request, "reason"))
    messages.success(request, f"Status: {ticket.get_status_display()}.")


@ticket_action
def correct_category(request, membership, ticket):
    do_correct_category(request.user, ticket, request.POST.get("category", ""), reason=_text(request, "reason"))
    messages.success(request, f"Category set to {ticket.category}; a new draft was proposed for it.")


@ticket_action
def set_escalation(request, membership, ticket):
    escalate = request.POST.get("escalate") == "1"
    do_set_escalation(request.user, ticket, escalate, reason=_text(request, "reason"))
    messages.success(request, "Escalated." if escalate else "Escalation removed.")


@ticket_action
def split_message(request, membership, ticket):
    message = get_object_or_404(ticket.messages, pk=request.POST.get("message") or 0)
    new_ticket = do_split_message(request.user, message, subject=_text(request, "subject"))
    messages.success(request, f"Message moved to new ticket #{new_ticket.number}.")
    return redirect(reverse("ticket_detail", args=[membership.workspace.slug, new_ticket.number]))


@ticket_action
def merge_ticket(request, membership, ticket):
    """This ticket is the same conversation as ticket #N: it moves there, whole."""
    number = request.POST.get("into", "").strip().lstrip("#")
    if not number.isdigit():
        raise ValueError("Give the number of the ticket to merge into")
    target = Ticket.objects.filter(workspace=membership.workspace, number=int(number)).first()
    if target is None:
        raise ValueError(f"There is no ticket #{number} here")
    do_merge_tickets(request.user, ticket, target, reason=_text(request, "reason"))
    messages.success(request, f"Merged into #{target.number}; this ticket's messages are there now.")
    return redirect(reverse("ticket_detail", args=[membership.workspace.slug, target.number]))


def _cc(request):
    """The participants the person left ticked; None when the form showed none (copy as usual)."""
    return request.POST.getlist("cc") if request.POST.get("cc_shown") == "1" else None


def _draft(ticket, draft_id):
    return get_object_or_404(Draft.objects.select_related("message", "ticket__contact"), ticket=ticket, pk=draft_id)


@ticket_action
def decide_draft(request, membership, ticket, draft_id):
    draft = _draft(ticket, draft_id)
    decision = request.POST.get("decision", "")
    text = _text(request, "text")
    if decision == "approve":
        try:
            draft = do_approve_draft(request.user, draft, text, override_reason=_text(request, "override_reason"),
                                     cc=_cc(request))
        except GuardrailBlocked as blocked:
            # Keep what the person typed: send the page back with the findings, not a redirect.
            context = ticket_context(request, membership, ticket, _queue_params(request), draft_text=text,
                                     blocked=blocked.findings)
            return render(request, "desk/ticket.html", context, status=422)
        except (NothingToSend, Unsendable) as error:
            raise ValueError(str(error))
        notice = already_approved_notice(draft, request.user)
        if notice:
            messages.warning(request, notice)
        else:
            messages.success(request, "Approved — the reply is on its way.")
    elif decision == "save":
        do_save_draft(request.user, draft, text)
        messages.success(request, "Draft saved for later.")
    elif decision == "reject":
        do_reject_draft(request.user, draft, _text(request, "reason"))
        messages.success(request, "Draft rejected.")
    elif decision == "choose":
        reply_id = request.POST.get("reply_id", "")
        _, playbook = active_playbook(ticket.workspace)
        if reply_id not in {r.id for r in playbook.category(draft.category).replies}:
            raise ValueError(f"{reply_id!r} is not an approved reply for {draft.category}")
        do_choose_reply(request.user, draft, reply_id)
        messages.success(request, "Switched to another approved reply.")
    else:
        return HttpResponseBadRequest("Unknown decision")


@login_required
@require_POST
def check_draft(request, slug, number, draft_id):
    """Live guardrail findings for the text being edited (htmx partial; writes nothing
    except the person's presence, marked as editing)."""
    membership = membership_or_404(request.user, slug)
    ticket = _ticket(membership, number)
    draft = _draft(ticket, draft_id)
    text = request.POST.get("text", "")[:MAX_TEXT]
    do_mark_viewing(ticket, request.user, editing=True)
    try:
        findings = check_edit(draft, text)
    except NoActivePlaybook as error:
        return HttpResponse(f'<p class="error">{error}</p>')
    return render(request, "desk/_findings.html", {"findings": findings, "preview": draft_preview(text)})


@login_required
def presence(request, slug, number):
    """Heartbeat + who else has this ticket open (htmx polls it every 20 s)."""
    membership = membership_or_404(request.user, slug)
    ticket = _ticket(membership, number)
    if request.method == "POST":
        do_mark_viewing(ticket, request.user, editing=request.POST.get("editing") == "1")
    elif request.method != "GET":
        raise PermissionDenied
    return render(request, "desk/_presence.html", {"others": others_here(ticket, request.user)})
