"""History import rate and daily-summary build time on a throwaway database.

    .venv/bin/python bench/reports.py [--tickets 2000] [--messages 3]

Writes a synthetic Zendesk CSV (one row per message) spread over 30 days, imports it through
`lbsup import-history`'s code path (the real ticket actions, audit events and SLA clocks),
imports it again (the idempotent re-run), then builds and renders the busiest day's summary."""

import argparse
import csv
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

VAR = tempfile.mkdtemp(prefix="lbsup-bench-reports-")
os.environ["LBSUP_VAR_DIR"] = VAR
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from lbsup.audit.actors import SYSTEM  # noqa: E402
from lbsup.reports.actions import render_digest  # noqa: E402
from lbsup.reports.figures import build_summary  # noqa: E402
from lbsup.tickets.history_import import import_history  # noqa: E402
from lbsup.workspaces.actions import do_create_workspace  # noqa: E402


def write_export(path, tickets, messages):
    start = datetime.datetime(2025, 2, 1, 8, 0)
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["Id", "Subject", "Requester", "Requester email", "Status", "Via", "Created at",
                      "Comment created at", "Comment author role", "Comment"])
        for n in range(tickets):
            opened = start + datetime.timedelta(minutes=n * 30 * 24 * 60 // tickets)
            for m in range(messages):
                at = opened + datetime.timedelta(hours=m * 2)
                role = "end-user" if m % 2 == 0 else "agent"
                out.writerow([n, f"Question {n}", f"Customer {n % 500}", f"c{n % 500}@mailbox.example",
                              "solved" if n % 3 else "open", "Mail", opened.isoformat(" "), at.isoformat(" "), role,
                              f"Message {m} about my appointment number {n}."])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    workspace = do_create_workspace(SYSTEM, slug="bench", name="Bench", support_email="bench@bench.example",
                                    timezone="America/Los_Angeles")
    export = Path(VAR) / "zendesk.csv"
    write_export(export, args.tickets, args.messages)
    rows = args.tickets * args.messages

    started = time.perf_counter()
    with export.open(newline="") as stream:
        result = import_history(workspace, stream)
    first = time.perf_counter() - started
    started = time.perf_counter()
    with export.open(newline="") as stream:
        again = import_history(workspace, stream)
    second = time.perf_counter() - started
    print(f"import: {rows} rows / {result.tickets_created} tickets in {first:.1f} s "
          f"({rows / first:.0f} rows/s); re-run skipped {again.messages_skipped} in {second:.1f} s "
          f"({rows / second:.0f} rows/s)")

    days = [datetime.date(2025, 2, d) for d in range(1, 29)]
    timings = []
    for day in days[:10]:
        started = time.perf_counter()
        summary = build_summary(workspace, day)
        render_digest(workspace, summary, base_url="https://bench.example")
        timings.append(time.perf_counter() - started)
    print(f"summary + digest for a day with {summary.figure('volume').value} tickets: "
          f"median {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
