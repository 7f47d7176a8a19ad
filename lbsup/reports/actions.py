"""Every write of the reports app: the digest schedule, the once-per-day digest email, replay runs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM
from lbsup.workspaces.models import Membership, Role, Workspace

from .figures import DailySummaryData, build_summary
from .models import DailySummary, DigestSchedule, ReplayRun
from .presenting import email_charts, figure_url, summary_url

SCHEDULE_ROLES = (Role.OWNER, Role.LEAD, Role.ADMIN)


@dataclass(frozen=True)
class DigestEmail:
    subject: str
    text: str
    html: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class DigestOutcome:
    workspace: str
    date: datetime.date
    sent: bool
    reason: str
    recipients: tuple[str, ...] = ()


def schedule_for(workspace) -> DigestSchedule:
    """The workspace's schedule, or the default one (07:00, on) if nobody changed it."""
    return DigestSchedule.objects.filter(workspace=workspace).first() or DigestSchedule(workspace=workspace)


@transaction.atomic
def do_set_schedule(actor, workspace, *, send_at: datetime.time, enabled: bool, extra_recipients: str = ""):
    schedule, _ = DigestSchedule.objects.get_or_create(workspace=workspace)
    schedule.send_at, schedule.enabled, schedule.extra_recipients = send_at, enabled, extra_recipients.strip()
    schedule.save()
    record_event(workspace, actor, "report.schedule_changed", schedule, send_at=send_at.strftime("%H:%M"),
                 enabled=enabled, extra_recipients=schedule.extra_addresses)
    return schedule


def digest_recipients(workspace) -> tuple[str, ...]:
    owners = Membership.objects.filter(workspace=workspace, role=Role.OWNER, user__is_active=True) \
        .exclude(user__email="").order_by("user__email").values_list("user__email", flat=True)
    return tuple(dict.fromkeys([*owners, *schedule_for(workspace).extra_addresses]))


def render_digest(workspace, summary: DailySummaryData, *, base_url: str | None = None,
                  recipients: tuple[str, ...] = ()) -> DigestEmail:
    base_url = settings.SITE_URL if base_url is None else base_url
    links = {key: base_url + figure_url(workspace.slug, summary.date, key) for key in summary.figures}
    context = {
        "workspace": workspace, "summary": summary, "links": links, "charts": email_charts(summary, base_url),
        "page_url": base_url + summary_url(workspace.slug, summary.date),
    }
    return DigestEmail(
        subject=f"{workspace.name}: daily summary for {summary.date:%A %-d %B %Y}",
        text=render_to_string("reports/email/digest.txt", context),
        html=render_to_string("reports/email/digest.html", context),
        recipients=recipients,
    )


def _summary_row(workspace, day) -> DailySummary:
    try:
        with transaction.atomic():
            return DailySummary.objects.get_or_create(workspace=workspace, date=day)[0]
    except IntegrityError:  # another scheduler created it a moment ago
        return DailySummary.objects.get(workspace=workspace, date=day)


def claim_digest(workspace, day) -> bool:
    """The conditional UPDATE that makes one scheduler the sender for this workspace and day:
    only one of any number of concurrent callers sees a row change from unsent to sending."""
    row = _summary_row(workspace, day)
    return DailySummary.objects.filter(
        pk=row.pk, state__in=[DailySummary.State.BUILT, DailySummary.State.FAILED]
    ).update(state=DailySummary.State.SENDING, claimed_at=timezone.now()) == 1


def do_send_digest(workspace, day: datetime.date, *, now: datetime.datetime | None = None) -> DigestOutcome:
    """Build and send one day's digest to the owners, at most once (a failed send may be retried)."""
    recipients = digest_recipients(workspace)
    if not recipients:
        return DigestOutcome(workspace.slug, day, False, "nobody to send it to (no owner with an email address)")
    if not claim_digest(workspace, day):
        return DigestOutcome(workspace.slug, day, False, "already sent or being sent")
    summary = build_summary(workspace, day, now=now)
    email = render_digest(workspace, summary, recipients=recipients)
    message = EmailMultiAlternatives(email.subject, email.text, settings.DEFAULT_FROM_EMAIL, list(recipients))
    message.attach_alternative(email.html, "text/html")
    try:
        message.send()
    except Exception as error:  # the mail server said no: nothing was sent, so a retry may send it
        DailySummary.objects.filter(workspace=workspace, date=day).update(
            state=DailySummary.State.FAILED, error=str(error)[:2000])
        record_event(workspace, SYSTEM, "report.digest_failed", None, date=day.isoformat(), error=str(error)[:300])
        return DigestOutcome(workspace.slug, day, False, f"sending failed: {error}", recipients)
    DailySummary.objects.filter(workspace=workspace, date=day).update(
        state=DailySummary.State.SENT, sent_at=timezone.now(), data=summary.to_dict(), recipients=list(recipients),
        error="")
    row = DailySummary.objects.get(workspace=workspace, date=day)
    record_event(workspace, SYSTEM, "report.digest_sent", row, date=day.isoformat(), recipients=list(recipients))
    return DigestOutcome(workspace.slug, day, True, "sent", recipients)


def due_day(workspace, now: datetime.datetime) -> datetime.date | None:
    """The day whose digest is due now: yesterday, once the local send time has passed."""
    schedule = schedule_for(workspace)
    if not schedule.enabled:
        return None
    local = now.astimezone(workspace.tz)
    if local.time() < schedule.send_at:
        return None
    return local.date() - datetime.timedelta(days=1)


def send_due_digests(now: datetime.datetime | None = None) -> list[DigestOutcome]:
    now = now or timezone.now()
    outcomes = []
    for workspace in Workspace.objects.order_by("pk"):
        day = due_day(workspace, now)
        if day is None or not digest_recipients(workspace):
            continue
        if DailySummary.objects.filter(workspace=workspace, date=day,
                                       state__in=[DailySummary.State.SENT, DailySummary.State.SENDING]).exists():
            continue
        outcomes.append(do_send_digest(workspace, day, now=now))
    return outcomes


@transaction.atomic
def do_start_replay(actor, version, *, days: int) -> ReplayRun:
    if not 1 <= days <= 365:
        raise ValueError("Replay between 1 and 365 days")
    run = ReplayRun.objects.create(workspace=version.workspace, playbook_version=version, days=days,
                                   created_by=actor if getattr(actor, "pk", None) else None)
    record_event(version.workspace, actor, "playbook.replay_started", run, number=version.number, days=days)
    from .tasks import replay_job

    transaction.on_commit(lambda: replay_job(run.pk))
    return run
