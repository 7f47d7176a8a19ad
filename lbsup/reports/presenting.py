"""Links and chart bars for a built summary: shared by the page, the email and the CSV,
so a figure points at the same ticket list wherever it is read."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.urls import reverse

from .charts import BAR_COLOR, MISSED_COLOR, Bar, bar_chart, column_chart, email_bars
from .figures import DailySummaryData


def summary_url(slug: str, day: datetime.date) -> str:
    return reverse("reports:summary", kwargs={"slug": slug, "date": day.isoformat()})


def figure_url(slug: str, day: datetime.date, key: str) -> str:
    path = reverse("reports:figure_tickets", kwargs={"slug": slug, "date": day.isoformat()})
    return f"{path}?{urlencode({'figure': key})}"


def chart_bars(summary: DailySummaryData, base_url: str = "") -> dict[str, list[Bar]]:
    slug, day = summary.workspace, summary.date

    def link(key, on_day=day):
        return base_url + figure_url(slug, on_day, key)

    volume = [Bar(f"{c.date:%b %-d}", c.count, link("volume", c.date)) for c in summary.volume_history]
    categories = [Bar(f.label, f.value, link(f.key)) for f in summary.section("category").figures]
    sla = []
    for kind in ("first_response", "resolution"):
        met, missed = summary.figure(f"sla:{kind}:met"), summary.figure(f"sla:{kind}:missed")
        pct = summary.figure(f"sla:{kind}")
        sla.append(Bar(met.label, met.value, link(met.key), BAR_COLOR, f"{met.value} ({pct.display})"))
        sla.append(Bar(missed.label, missed.value, link(missed.key), MISSED_COLOR))
    return {"volume": volume, "categories": categories, "sla": sla}


def page_charts(summary: DailySummaryData) -> dict:
    bars = chart_bars(summary)
    return {
        "volume": column_chart(f"Tickets opened per day, last {len(bars['volume'])} days", bars["volume"]),
        "categories": bar_chart("Tickets by category", bars["categories"]),
        "sla": bar_chart("Service levels: met and missed", bars["sla"]),
        "bars": bars,
    }


def email_charts(summary: DailySummaryData, base_url: str) -> dict:
    bars = chart_bars(summary, base_url)
    last_week = bars["volume"][-7:]
    return {
        "volume": email_bars("Tickets opened, last 7 days", last_week),
        "categories": email_bars("By category", bars["categories"]),
        "sla": email_bars("Service levels", bars["sla"]),
    }
