import datetime
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_ratelimit.core import get_usage

from lbsup.workspaces.access import membership_or_404
from lbsup.workspaces.models import Workspace

from .actions import (
    NotAllowedInThisState,
    compose_inbound,
    do_accept_filtered,
    do_assign_raw_message,
    do_ingest,
    do_retry_raw_message,
)
from .forms import ContactForm, issue_form_key, read_form_key
from .models import RawMessage
from .reconcile import reconcile_mailbox
from .response_promise import response_promise

log = logging.getLogger(__name__)

PAGE_SIZE = 50
CONTACT_RATE = "5/10m"
RECONCILE_ROLES = ("admin", "lead")
MAX_RECONCILE_DAYS = 90


def _client_ip(group, request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _sender_email(group, request):
    return request.POST.get("email", "").strip().lower()[:254]


def _rate_limited(request):
    """Counts this submission against the client's IP and the sender address; the
    seconds to wait when either has used up its allowance, else None."""
    waits = []
    for group, key in (("intake.contact.ip", _client_ip), ("intake.contact.email", _sender_email)):
        if group.endswith("email") and not _sender_email(group, request):
            continue
        usage = get_usage(request, group=group, key=key, rate=CONTACT_RATE, method="POST", increment=True)
        if usage and usage["should_limit"]:
            waits.append(usage["time_left"])
    return max(waits) if waits else None


def contact_form(request, workspace_slug):
    workspace = get_object_or_404(Workspace, slug=workspace_slug)
    context = {"workspace": workspace, "max_message_chars": ContactForm.base_fields["message"].max_length}
    if request.method != "POST":
        form = ContactForm(workspace=workspace)
        return render(request, "intake/contact_form.html", {**context, "form": form,
                                                             "form_key": issue_form_key(workspace)})
    wait = _rate_limited(request)
    if wait is not None:
        log.warning("contact form for %s rate-limited (ip %s)", workspace.slug, _client_ip(None, request))
        return render(request, "intake/contact_rate_limited.html", {**context, "minutes": max(1, -(-wait // 60))},
                      status=429)
    form = ContactForm(request.POST, workspace=workspace)
    if form.is_bot:
        # Looks like success to the bot; a person never sees the honeypot, so nothing is lost.
        log.info("contact form for %s: honeypot filled (ip %s); nothing stored", workspace.slug,
                 _client_ip(None, request))
        return redirect("contact_thanks", workspace_slug=workspace.slug)
    if not form.is_valid():
        still_valid_key = read_form_key(workspace, request.POST.get("form_key", ""))
        form_key = request.POST["form_key"] if still_valid_key else issue_form_key(workspace)
        return render(request, "intake/contact_form.html", {**context, "form": form, "form_key": form_key},
                      status=400)
    data = form.cleaned_data
    raw = compose_inbound(workspace, from_email=data["email"], from_name=data["name"], subject=data["subject"],
                          text=data["message"], message_key=f"contact-form:{data['form_key']}")
    do_ingest(workspace, raw, channel="web", source={"ip": _client_ip(None, request), "form": "contact"})
    return redirect("contact_thanks", workspace_slug=workspace.slug)


def contact_thanks(request, workspace_slug):
    workspace = get_object_or_404(Workspace, slug=workspace_slug)
    return render(request, "intake/contact_thanks.html",
                  {"workspace": workspace, "promise": response_promise(workspace)})


STATE_FILTERS = [
    (RawMessage.State.FAILED, "Failed"),
    (RawMessage.State.RECEIVED, "Not processed yet"),
    (RawMessage.State.FILTERED, "Filtered"),
    (RawMessage.State.DUPLICATE, "Duplicates"),
    (RawMessage.State.REJECTED, "Rejected"),
    (RawMessage.State.PROCESSED, "Processed"),
]


@login_required
def inbound_mail(request, slug):
    membership = membership_or_404(request.user, slug)
    workspace = membership.workspace
    rows = (RawMessage.objects.filter(workspace=workspace).select_related("message__ticket")
            .defer("raw").order_by("-received_at", "-id"))
    state = request.GET.get("state", "")
    if state in RawMessage.State.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "intake/inbound_mail.html", {
        "workspace": workspace, "membership": membership, "page": page, "state": state,
        "state_filters": STATE_FILTERS, "retryable": {RawMessage.State.FAILED, RawMessage.State.RECEIVED},
        "can_reconcile": membership.role in RECONCILE_ROLES,
    })


def _raw_message_or_404(membership, pk):
    return get_object_or_404(RawMessage.objects.select_related("workspace"), workspace=membership.workspace, pk=pk)


def _back_to_list(request, slug):
    state = request.POST.get("state", "")
    url = reverse("inbound_mail", kwargs={"slug": slug})
    return redirect(f"{url}?state={state}" if state in RawMessage.State.values else url)


@login_required
@require_POST
def retry_raw_message(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    raw_message = _raw_message_or_404(membership, pk)
    try:
        raw_message = do_retry_raw_message(request.user, raw_message)
    except NotAllowedInThisState as error:
        messages.warning(request, str(error))
        return _back_to_list(request, slug)
    if raw_message.state == RawMessage.State.FAILED:
        messages.error(request, f"Message {raw_message.pk} failed again: {raw_message.detail}")
    else:
        messages.success(request, f"Message {raw_message.pk}: {raw_message.get_state_display().lower()}.")
    return _back_to_list(request, slug)


@login_required
@require_POST
def accept_filtered(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    raw_message = _raw_message_or_404(membership, pk)
    try:
        raw_message = do_accept_filtered(request.user, raw_message)
    except NotAllowedInThisState as error:
        messages.warning(request, str(error))
        return _back_to_list(request, slug)
    ticket = raw_message.message.ticket
    messages.success(request, f"Message {raw_message.pk} is now on ticket #{ticket.number}.")
    return _back_to_list(request, slug)


@login_required
def reconcile(request, slug):
    membership = membership_or_404(request.user, slug, roles=RECONCILE_ROLES)
    workspace = membership.workspace
    mailboxes = list(workspace.mailboxes.order_by("pk"))
    days, reports = 7, None
    if request.method == "POST":
        try:
            days = min(MAX_RECONCILE_DAYS, max(1, int(request.POST.get("days", days))))
        except ValueError:
            days = 7
        since = timezone.now() - datetime.timedelta(days=days)
        # Reading the IMAP folder read-only changes nothing, but it is slow and talks to
        # another server: a POST keeps link prefetchers from starting it.
        reports = [(mailbox, reconcile_mailbox(mailbox, since)) for mailbox in mailboxes if mailbox.enabled]
    return render(request, "intake/reconcile.html", {
        "workspace": workspace, "membership": membership, "mailboxes": mailboxes, "days": days,
        "max_days": MAX_RECONCILE_DAYS, "reports": reports,
    })


@login_required
def raw_message_source(request, slug, pk):
    """The mail exactly as it arrived, as a download: never rendered in the page (it may be hostile)."""
    membership = membership_or_404(request.user, slug)
    raw_message = _raw_message_or_404(membership, pk)
    response = HttpResponse(bytes(raw_message.raw), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mail-{raw_message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def assign_raw_message(request, slug, pk):
    """Rejected (or filtered) mail onto a ticket by hand: its number, or a new one from an address."""
    from lbsup.tickets.models import Ticket

    membership = membership_or_404(request.user, slug)
    raw_message = _raw_message_or_404(membership, pk)
    number = request.POST.get("ticket", "").strip().lstrip("#")
    ticket = None
    if number:
        ticket = Ticket.objects.filter(workspace=membership.workspace, number=int(number)).first() \
            if number.isdigit() else None
        if ticket is None:
            messages.error(request, f"There is no ticket #{number} here")
            return _back_to_list(request, slug)
    try:
        raw_message = do_assign_raw_message(request.user, raw_message, ticket=ticket,
                                            from_email=request.POST.get("from_email", "")[:320])
    except (NotAllowedInThisState, ValueError) as error:
        messages.error(request, str(error))
        return _back_to_list(request, slug)
    messages.success(request, f"Message {raw_message.pk} is now on ticket #{raw_message.message.ticket.number}.")
    return _back_to_list(request, slug)
