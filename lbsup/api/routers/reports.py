"""Daily summaries: the numbers of the daily summary page, each with the tickets behind it.
The one resource an owner's token reaches."""

import datetime

from django.db.models import Min
from django.http import Http404
from django.utils import timezone
from ninja import Query, Router, Schema

from lbsup.reports.figures import build_summary, volume_history
from lbsup.reports.models import DailySummary
from lbsup.reports.presenting import figure_url, summary_url
from lbsup.tickets.models import Ticket

from .. import schemas, serialize
from ..auth import report_reader
from ..pagination import MAX_LIMIT
from .common import WorkspaceSlug, cached_read, responses

router = Router(tags=["daily summaries"])

DEFAULT_DAYS = 30


class ReportDayPage(Schema):
    results: list[schemas.ReportDay]
    next_cursor: str | None


def local_today(workspace):
    return timezone.now().astimezone(workspace.tz).date()


def first_day(workspace):
    """The workspace's first day: when it was set up, or its oldest ticket if history was imported."""
    oldest = Ticket.objects.filter(workspace=workspace).aggregate(first=Min("created_at"))["first"]
    return min(filter(None, (workspace.created_at, oldest))).astimezone(workspace.tz).date()


def digests(workspace, first, last):
    return {row.date: row for row in DailySummary.objects.filter(workspace=workspace, date__range=(first, last))}


@router.get("/reports/days", response=responses(ReportDayPage), auth=report_reader, operation_id="list_report_days")
@cached_read
def list_report_days(request, slug: WorkspaceSlug,
                     cursor: datetime.date | None = Query(None, description="next_cursor from the previous page"),
                     limit: int = Query(DEFAULT_DAYS, ge=1, le=MAX_LIMIT)):
    """Every day from the workspace's first to today (its time zone), newest first, with the
    tickets opened that day and whether its summary email went out."""
    workspace = request.auth.workspace
    first, last = first_day(workspace), local_today(workspace)
    if cursor is not None:
        last = min(last, cursor - datetime.timedelta(days=1)) if cursor > first else None
    if last is None or last < first:
        return {"results": [], "next_cursor": None}
    days = volume_history(workspace, last, days=min(limit, (last - first).days + 1))
    sent = digests(workspace, days[0].date, last)
    results = [{"date": d.date, "tickets_opened": d.count, "digest": serialize.digest_state(sent.get(d.date))}
               for d in reversed(days)]
    return {"results": results, "next_cursor": days[0].date.isoformat() if days[0].date > first else None}


@router.get("/reports/days/{date}", response=responses(schemas.DailySummary), auth=report_reader,
            operation_id="get_daily_summary")
@cached_read
def get_daily_summary(request, slug: WorkspaceSlug, date: datetime.date):
    """One day's summary: the same figures as the daily summary page. Each figure lists the
    numbers of the tickets behind it and links to the page that shows them."""
    workspace = request.auth.workspace
    if not first_day(workspace) <= date <= local_today(workspace):
        raise Http404("No summary for that day: it is before the workspace's first day or still to come")
    summary = build_summary(workspace, date)
    ids = {pk for figure in summary.figures.values() for pk in figure.ticket_ids}
    numbers = dict(Ticket.objects.filter(workspace=workspace, pk__in=ids).values_list("pk", "number"))
    return serialize.daily_summary(
        summary, numbers=numbers, digest=digests(workspace, date, date).get(date),
        figure_url=lambda key: request.build_absolute_uri(figure_url(workspace.slug, date, key)),
        url=request.build_absolute_uri(summary_url(workspace.slug, date)))
