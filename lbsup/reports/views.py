import csv
import datetime

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lbsup.core.spreadsheet import safe_cell
from lbsup.tickets.models import Ticket
from lbsup.workspaces.access import membership_or_404
from lbsup.workspaces.models import DESK_ROLES, Role

from .actions import SCHEDULE_ROLES, do_set_schedule, render_digest, schedule_for
from .days import day_bounds, parse_day
from .figures import CHART_DAYS, build_summary
from .forms import ScheduleForm
from .presenting import figure_url, page_charts
from .quality import assist_quality

REPORT_ROLES = (Role.OWNER, *DESK_ROLES)
QUALITY_ROLES = (Role.LEAD, Role.ADMIN)


def _day(workspace, text):
    try:
        day = parse_day(text)
    except ValueError:
        raise Http404("No such day")
    if day > timezone.now().astimezone(workspace.tz).date():
        raise Http404("That day has not happened yet")
    return day


def _quality(workspace, day):
    _, end = day_bounds(workspace.tz, day)
    start, _ = day_bounds(workspace.tz, day - datetime.timedelta(days=CHART_DAYS - 1))
    return assist_quality(workspace, start, end)


@login_required
def latest(request, slug):
    membership = membership_or_404(request.user, slug, roles=REPORT_ROLES)
    yesterday = timezone.now().astimezone(membership.workspace.tz).date() - datetime.timedelta(days=1)
    return redirect("reports:summary", slug=slug, date=yesterday.isoformat())


@login_required
def summary(request, slug, date):
    membership = membership_or_404(request.user, slug, roles=REPORT_ROLES)
    workspace = membership.workspace
    day = _day(workspace, date)
    data = build_summary(workspace, day)
    links = {key: figure_url(slug, day, key) for key in data.figures}
    quality = _quality(workspace, day) if membership.role in QUALITY_ROLES else None
    quality_links = {key: figure_url(slug, day, key) for key in quality.figures} if quality else {}
    return render(request, "reports/summary.html", {
        "workspace": workspace, "membership": membership, "summary": data, "links": links,
        "charts": page_charts(data), "quality": quality, "quality_links": quality_links,
        "previous": day - datetime.timedelta(days=1), "next": day + datetime.timedelta(days=1),
        "can_schedule": membership.role in SCHEDULE_ROLES,
    })


@login_required
def figure_tickets(request, slug, date):
    """Exactly the tickets behind one figure; owners see them read-only, without desk links."""
    membership = membership_or_404(request.user, slug, roles=REPORT_ROLES)
    workspace = membership.workspace
    day = _day(workspace, date)
    key = request.GET.get("figure", "")
    if key.startswith("quality:"):
        if membership.role not in QUALITY_ROLES:
            raise PermissionDenied("Assist quality figures are for leads")
        figures = _quality(workspace, day).figures
    else:
        figures = build_summary(workspace, day).figures
    figure = figures.get(key)
    if figure is None:
        raise Http404("No such figure")
    tickets = Ticket.objects.filter(workspace=workspace, pk__in=figure.ticket_ids) \
        .select_related("contact").order_by("number")
    return render(request, "reports/figure_tickets.html", {
        "workspace": workspace, "membership": membership, "figure": figure, "day": day, "tickets": tickets,
        "desk_links": membership.role in DESK_ROLES,
    })


@login_required
def summary_csv(request, slug, date):
    membership = membership_or_404(request.user, slug, roles=REPORT_ROLES)
    workspace = membership.workspace
    day = _day(workspace, date)
    data = build_summary(workspace, day)
    numbers = dict(Ticket.objects.filter(workspace=workspace).filter(
        pk__in={pk for f in data.figures.values() for pk in f.ticket_ids}).values_list("pk", "number"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{day.isoformat()}.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "section", "figure", "label", "value", "unit", "tickets", "link"])
    for section in data.sections:
        if not section.available:
            writer.writerow([safe_cell(v) for v in (day.isoformat(), section.title, "", section.note, "", "", "", "")])
        for figure in section.figures:
            writer.writerow([safe_cell(v) for v in (
                day.isoformat(), section.title, figure.key, figure.label, figure.value, figure.unit,
                " ".join(f"#{numbers[pk]}" for pk in figure.ticket_ids if pk in numbers),
                request.build_absolute_uri(figure_url(slug, day, figure.key)),
            )])
    return response


# The digest's HTML carries inline styles because mail clients ignore stylesheets; this page shows
# exactly that HTML, so it alone may use inline styles (still no script).
@login_required
@csp_update({"style-src": ["'unsafe-inline'"]})
def email_preview(request, slug, date):
    membership = membership_or_404(request.user, slug, roles=REPORT_ROLES)
    workspace = membership.workspace
    day = _day(workspace, date)
    email = render_digest(workspace, build_summary(workspace, day), base_url=request.build_absolute_uri("/")[:-1])
    if request.GET.get("part") == "text":
        return HttpResponse(email.text, content_type="text/plain; charset=utf-8")
    return HttpResponse(email.html)


@login_required
@require_http_methods(["GET", "POST"])
def schedule(request, slug):
    membership = membership_or_404(request.user, slug, roles=SCHEDULE_ROLES)
    workspace = membership.workspace
    current = schedule_for(workspace)
    form = ScheduleForm(request.POST or None, initial={
        "send_at": current.send_at, "enabled": current.enabled, "extra_recipients": current.extra_recipients,
    })
    if request.method == "POST" and form.is_valid():
        do_set_schedule(request.user, workspace, **form.cleaned_data)
        return redirect("reports:schedule", slug=slug)
    return render(request, "reports/schedule.html", {
        "workspace": workspace, "membership": membership, "form": form, "schedule": current,
    })
