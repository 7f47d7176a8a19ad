"""Charts drawn on the server: inline SVG for the page (every bar is a link to its
tickets, with a <title> for screen readers and hover), and table-based bars for email,
because most mail clients block SVG and scripts. Each chart is also given as a data table
by the templates."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

BAR_COLOR = "#2f6f9f"
MISSED_COLOR = "#b5482d"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str = ""
    color: str = BAR_COLOR
    caption: str = ""  # shown instead of the value (e.g. "67%")


def _text(bar: Bar) -> str:
    return bar.caption or (f"{bar.value:g}")


def column_chart(title: str, bars: list[Bar], *, width: int = 640, height: int = 160,
                 label_every: int = 5) -> SafeString:
    """Vertical bars, left to right (a time series)."""
    top = max((b.value for b in bars), default=0) or 1
    gap = 2
    slot = width / max(len(bars), 1)
    plot = height - 20
    parts = []
    for n, bar in enumerate(bars):
        h = 0 if bar.value <= 0 else max(1.0, plot * bar.value / top)
        x, y = n * slot + gap / 2, plot - h
        rect = format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
            f"{x:.1f}", f"{y:.1f}", f"{max(slot - gap, 1):.1f}", f"{h:.1f}", bar.color, bar.label, _text(bar),
        )
        parts.append(format_html('<a href="{}">{}</a>', bar.href, rect) if bar.href else rect)
        if n % label_every == 0 or n == len(bars) - 1:
            parts.append(format_html('<text x="{}" y="{}" font-size="10">{}</text>', f"{x:.1f}", height - 6,
                                     bar.label))
    return _svg(title, width, height, parts)


def bar_chart(title: str, bars: list[Bar], *, width: int = 480, row: int = 22) -> SafeString:
    """Horizontal bars with their label and value (categories, SLA)."""
    label_width, value_width = 150, 50
    span = width - label_width - value_width
    top = max((b.value for b in bars), default=0) or 1
    height = max(row * len(bars), row)
    parts = []
    for n, bar in enumerate(bars):
        y = n * row
        w = 0 if bar.value <= 0 else max(1.0, span * bar.value / top)
        body = format_html(
            '<text x="0" y="{}" font-size="12">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
            '<text x="{}" y="{}" font-size="12">{}</text>',
            y + row - 8, bar.label[:24], label_width, y + 3, f"{w:.1f}", row - 6, bar.color, bar.label, _text(bar),
            f"{label_width + w + 4:.1f}", y + row - 8, _text(bar),
        )
        parts.append(format_html('<a href="{}">{}</a>', bar.href, body) if bar.href else body)
    return _svg(title, width, height, parts)


def _svg(title: str, width: int, height: int, parts) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}"><title>{}</title>{}</svg>',
        title, width, height, width, height, title, mark_safe("".join(parts)),
    )


def email_bars(title: str, bars: list[Bar], *, width: int = 260) -> SafeString:
    """The same bars as an HTML table with fixed-width cells: renders in every mail client."""
    top = max((b.value for b in bars), default=0) or 1
    rows = format_html_join(
        "",
        '<tr><td style="padding:2px 8px 2px 0;font-size:13px">{}</td>'
        '<td style="padding:2px 0"><table role="presentation" cellpadding="0" cellspacing="0"><tr>'
        '<td width="{}" height="12" bgcolor="{}" style="background:{};width:{}px;height:12px;font-size:0">&nbsp;</td>'
        '<td style="padding-left:6px;font-size:13px">{}</td></tr></table></td></tr>',
        (
            (
                format_html('<a href="{}">{}</a>', b.href, b.label) if b.href else escape(b.label),
                w, b.color, b.color, w, _text(b),
            )
            for b in bars
            for w in [max(1, round(width * b.value / top)) if b.value > 0 else 1]
        ),
    )
    return format_html(
        '<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">'
        '<caption style="text-align:left;font-weight:bold;padding:8px 0 4px">{}</caption>{}</table>',
        title, rows,
    )
