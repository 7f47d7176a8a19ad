"""Server time of django-helpdesk's ticket list at 100,000 tickets, measured like bench/desk.py measures
our queue (issue #6 compares them): p50/p95 over 200 requests each through the Django test client, in
process, logged in as a staff member.

    python3 bench/helpdesk/project.py                      # once: the throw-away project in /tmp/helpdesk-bench
    /tmp/helpdesk-bench/venv/bin/python bench/helpdesk/ticket_list.py [-n 100000] [--requests 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NEW_DB  (the same command; seeds that database once)

Seeds one queue once (SQLite: desk.sqlite3 in the project folder; re-runs reuse it) with bulk-created
tickets shaped like bench/seed_tickets.py's: created over the last 90 days, 4 in 7 open or reopened
(what the list shows by default), 1–3 follow-ups each. The list is two requests: /tickets/ renders
the page and its filters, then the browser's DataTables asks /datatables_ticket_list/<query> for the
rows (first request: draw=1, start=0, length=the user's tickets_per_page, 25 by default, no ordering:
the query's default, oldest created first). On PostgreSQL it runs VACUUM ANALYZE first, as bench/desk.py does."""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ticket_samples import BODIES, SUBJECTS, measure  # noqa: E402

STATUSES = [1, 1, 1, 2, 3, 4, 4]  # open ×3, reopened, resolved, closed ×2: 57 % in the default list


def seed(queue, n, *, batch=2000, seed=7):
    from django.db import transaction
    from django.utils import timezone
    from helpdesk.models import FollowUp, Ticket

    rng = random.Random(seed)
    now = timezone.now()
    # created/modified are auto_now(_add): without this, bulk_create would stamp every ticket "now".
    Ticket._meta.get_field("created").auto_now_add = False
    Ticket._meta.get_field("modified").auto_now = False
    done = 0
    while done < n:
        size = min(batch, n - done)
        with transaction.atomic():
            tickets = []
            for _ in range(size):
                created = now - datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 90))
                tickets.append(Ticket(
                    title=rng.choice(SUBJECTS).format(n=f"NW-{rng.randint(100000, 999999)}"), queue=queue,
                    created=created, modified=created,
                    submitter_email=f"customer{rng.randint(0, n // 5)}@bench.example",
                    status=rng.choice(STATUSES), priority=rng.choice([1, 2, 3, 3, 3, 4, 5]),
                    description=rng.choice(BODIES).format(n=f"NW-{rng.randint(100000, 999999)}"),
                ))
            tickets = Ticket.objects.bulk_create(tickets)
            FollowUp.objects.bulk_create(
                FollowUp(ticket=ticket, title="E-Mail Received", date=ticket.created + datetime.timedelta(hours=k),
                         public=True, comment=rng.choice(BODIES).format(n=f"NW-{rng.randint(100000, 999999)}"))
                for ticket in tickets for k in range(rng.randint(1, 3))
            )
        done += size


def prepare(n):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from helpdesk.models import Queue, Ticket

    queue, _ = Queue.objects.get_or_create(slug="bench", defaults={"title": "Bench"})
    have = Ticket.objects.filter(queue=queue).count()
    if have < n:
        started = time.perf_counter()
        seed(queue, n - have)
        print(f"seeded {n - have} tickets in {time.perf_counter() - started:.0f} s")
    user = get_user_model().objects.filter(username="bench-staff").first() or get_user_model().objects.create_user(
        "bench-staff", "staff@bench.example", "x", is_staff=True)
    if connection.vendor == "postgresql":  # as bench/desk.py does: autovacuum's work, off on the test server
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return queue, user


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--project", type=Path, default=Path("/tmp/helpdesk-bench"),
                        help="the folder bench/helpdesk/project.py wrote")
    args = parser.parse_args()
    project = args.project.resolve()
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
    os.environ.setdefault("HDBENCH_SQLITE", str(project / "desk.sqlite3"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from helpdesk.models import Ticket

    setup_test_environment()
    call_command("migrate", verbosity=0)
    queue, user = prepare(args.n)
    client = Client()
    client.force_login(user)
    page = client.get("/tickets/")
    per_page = page.context["default_tickets_per_page"]
    rows = f"/datatables_ticket_list/{page.context['urlsafe_query']}"
    first = f"{rows}?draw=1&start=0&length={per_page}&search%5Bvalue%5D=&search%5Bregex%5D=false"
    listed = client.get(first).json()
    numbers = list(Ticket.objects.filter(queue=queue).order_by("?").values_list("id", flat=True)[:50])
    cases = [
        ("ticket list: page (/tickets/)", ["/tickets/"]),
        (f"ticket list: rows, first {per_page}", [first]),
        ("ticket page", [f"/tickets/{number}/" for number in numbers]),
    ]
    print(f"django-helpdesk engine={connection.vendor} tickets={Ticket.objects.filter(queue=queue).count()} "
          f"listed by default={listed['recordsTotal']} requests={args.requests} each")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8}")
    for name, urls in cases:
        p50, p95 = measure(client, urls, args.requests)
        print(f"{name:40} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
