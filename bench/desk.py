"""Server time of the review desk at 100,000 tickets: each queue view, a deep page, search and
the ticket page, p50/p95 over 200 requests each through the Django test client (in process:
URL routing, access check, queries, template rendering; no network).

    .venv/bin/python bench/desk.py [-n 100000] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/desk.py

Seeds the "bench-desk" workspace (SQLite: in var/bench-desk.sqlite3) once with bench/seed_tickets.py (re-runs reuse it), gives
half the active tickets an SLA due time and some an assignee, folds the queue tally (the minute job's work), then
measures. On PostgreSQL it runs VACUUM ANALYZE first: what autovacuum does in production, and off on the test server."""

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_tickets import ensure_workspace, seed  # noqa: E402  (sets up Django)
from ticket_samples import measure  # noqa: E402

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import F  # noqa: E402
from django.db.models.functions import Mod  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from lbsup.audit.actors import SYSTEM  # noqa: E402
from lbsup.desk.actions import do_fold_queue_tallies  # noqa: E402
from lbsup.tickets.models import Ticket  # noqa: E402
from lbsup.workspaces.actions import do_set_membership  # noqa: E402
from lbsup.workspaces.models import Membership, Role  # noqa: E402

SLUG = "bench-desk"


def use_own_database():
    """On SQLite, measure in var/bench-desk.sqlite3, never in the demo database."""
    if connection.vendor == "sqlite":
        connections["default"].settings_dict["NAME"] = Path(settings.VAR_DIR) / "bench-desk.sqlite3"
    call_command("migrate", verbosity=0, interactive=False)


def prepare(n):
    workspace = ensure_workspace(SLUG)
    have = Ticket.objects.filter(workspace=workspace).count()
    if have < n:
        started = time.perf_counter()
        seed(workspace, n - have)
        print(f"seeded {n - have} tickets in {time.perf_counter() - started:.0f} s")
        active = Ticket.objects.filter(workspace=workspace, status__in=["new", "open", "escalated"])
        # An SLA on every other active ticket: due 8 hours after it was opened.
        active.annotate(parity=Mod("number", 2)).filter(parity=0).update(
            due_at=F("created_at") + datetime.timedelta(hours=8))
        Ticket.objects.filter(workspace=workspace, status="escalated").update(
            escalation_reason="legal_or_payment_dispute: lawyer")
    user = get_user_model().objects.filter(username="bench-rep").first() or get_user_model().objects.create_user(
        "bench-rep", "rep@bench.example", "x")
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        do_set_membership(SYSTEM, workspace, user, Role.REPRESENTATIVE)
    rng = random.Random(3)
    mine = [t for t in Ticket.objects.filter(workspace=workspace, assignee__isnull=True).values_list(
        "id", flat=True)[:2000] if rng.random() < 0.25]
    if not Ticket.objects.filter(workspace=workspace, assignee=user).exists():
        Ticket.objects.filter(id__in=mine).update(assignee=user)
    do_fold_queue_tallies(workspace.pk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return workspace, user


def deep_page_url(client, base, pages):
    """The URL of page `pages` of the open queue, following the cursor like a person would."""
    url = base
    for _ in range(pages):
        response = client.get(url)
        cursor = response.context["page"].next_cursor
        url = f"{base}?after={cursor}"
    return url


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup_test_environment()
    use_own_database()
    workspace, user = prepare(args.n)
    client = Client()
    client.force_login(user)
    base = f"/w/{SLUG}/"
    total = Ticket.objects.filter(workspace=workspace).count()
    numbers = list(Ticket.objects.filter(workspace=workspace).order_by("?").values_list("number", flat=True)[:50])
    cases = [
        ("queue: all open", [base]),
        ("queue: mine", [f"{base}?view=mine"]),
        ("queue: unassigned", [f"{base}?view=unassigned"]),
        ("queue: escalated", [f"{base}?view=escalated"]),
        ("queue: due soon / overdue", [f"{base}?view=due"]),
        ("queue: waiting on customer", [f"{base}?view=waiting"]),
        ("queue: category complaint", [f"{base}?view=category:complaint"]),
        ("queue: page 40 (cursor)", [deep_page_url(client, base, 40)]),
        ("search: one word (refund)", [f"{base}?q=refund"]),
        ("search: two words (third time)", [f"{base}?q=third+time"]),
        ("search: order number", [f"{base}?q=NW-{n}" for n in (104522, 555555, 123456)]),
        ("search: contact name", [f"{base}?q=customer+{n}" for n in (12, 345, 6789)]),
        ("ticket page", [f"{base}tickets/{n}/" for n in numbers]),
    ]
    print(f"engine={connection.vendor} tickets={total} requests={args.requests} each")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8}")
    for name, urls in cases:
        p50, p95 = measure(client, urls, args.requests)
        print(f"{name:40} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
