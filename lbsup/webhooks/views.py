from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from lbsup.workspaces.access import membership_or_404
from lbsup.workspaces.models import Role

from .actions import do_create_endpoint, do_retry_delivery, do_set_endpoint_active
from .models import Delivery, Endpoint

# Endpoints carry secrets and receive customer data: leads and admins manage them.
MANAGER_ROLES = (Role.ADMIN, Role.LEAD)
PAGE_SIZE = 50


@login_required
def endpoint_list(request, slug):
    membership = membership_or_404(request.user, slug, roles=MANAGER_ROLES)
    workspace = membership.workspace
    if request.method == "POST":
        try:
            do_create_endpoint(request.user, workspace, url=request.POST.get("url", "").strip()[:500],
                               description=request.POST.get("description", ""),
                               event_types=request.POST.get("event_types", "").replace(",", " ").split())
            messages.success(request, "Endpoint added. Share its secret with the receiving system.")
        except ValueError as error:
            messages.error(request, str(error))
        return redirect("webhook_endpoints", slug=slug)
    deliveries = Delivery.objects.filter(workspace=workspace).select_related("endpoint")
    state = request.GET.get("state", "")
    if state in Delivery.State.values:
        deliveries = deliveries.filter(state=state)
    return render(request, "webhooks/endpoint_list.html", {
        "workspace": workspace, "membership": membership,
        "endpoints": Endpoint.objects.filter(workspace=workspace),
        "page": Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page")),
        "state": state, "states": Delivery.State.choices,
        "failed": Delivery.objects.filter(workspace=workspace, state=Delivery.State.FAILED).count(),
    })


@login_required
@require_POST
def endpoint_active(request, slug, pk):
    membership = membership_or_404(request.user, slug, roles=MANAGER_ROLES)
    endpoint = get_object_or_404(Endpoint, workspace=membership.workspace, pk=pk)
    do_set_endpoint_active(request.user, endpoint, request.POST.get("active") == "1")
    return redirect("webhook_endpoints", slug=slug)


@login_required
def delivery_detail(request, slug, pk):
    membership = membership_or_404(request.user, slug, roles=MANAGER_ROLES)
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), workspace=membership.workspace, pk=pk)
    return render(request, "webhooks/delivery_detail.html", {
        "workspace": membership.workspace, "membership": membership, "delivery": delivery,
        "log": delivery.log.all()[:100]})


@login_required
@require_POST
def delivery_retry(request, slug, pk):
    membership = membership_or_404(request.user, slug, roles=MANAGER_ROLES)
    delivery = get_object_or_404(Delivery, workspace=membership.workspace, pk=pk)
    try:
        if do_retry_delivery(request.user, delivery).state == Delivery.State.DELIVERED:
            messages.info(request, "Already delivered: not sent again.")
        else:
            messages.success(request, "Queued to be sent again (same idempotency key).")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("webhook_delivery", slug=slug, pk=pk)
