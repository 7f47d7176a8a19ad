"""Create N synthetic tickets (1–3 messages each) in a workspace, fast, for benchmarks.

    .venv/bin/python bench/seed_tickets.py [--workspace bench] [-n 100000]

Bulk inserts on purpose: this is synthetic load for measuring, not customer data, so it
skips the per-row actions (and their audit events) that product code must go through.
Prints the rate as its last line."""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402

from lbsup.audit.actors import SYSTEM  # noqa: E402
from lbsup.crm.models import Contact, ContactEmail  # noqa: E402
from lbsup.tickets.models import AuthorKind, Direction, Message, Status, Ticket, new_reply_token  # noqa: E402
from lbsup.workspaces.actions import do_create_workspace  # noqa: E402
from lbsup.workspaces.models import Workspace  # noqa: E402
from ticket_samples import BODIES, SUBJECTS  # noqa: E402

STATUSES = [Status.NEW, Status.OPEN, Status.OPEN, Status.WAITING, Status.ESCALATED, Status.RESOLVED, Status.CLOSED]
CATEGORIES = ["order_status", "returns_refunds", "product_question", "complaint", "account", "general", ""]


def ensure_workspace(slug):
    return Workspace.objects.filter(slug=slug).first() or do_create_workspace(
        SYSTEM, slug=slug, name=f"Benchmark {slug}", support_email=f"{slug}@bench.example", timezone="America/Chicago"
    )


def make_contacts(workspace, count, rng):
    start = Contact.objects.filter(workspace=workspace).count()
    contacts = Contact.objects.bulk_create(
        Contact(workspace=workspace, name=f"Customer {start + i}", vip=rng.random() < 0.02) for i in range(count)
    )
    if not contacts[0].pk:  # backends without RETURNING on bulk insert
        contacts = list(Contact.objects.filter(workspace=workspace).order_by("-id")[:count])
    ContactEmail.objects.bulk_create(
        ContactEmail(workspace=workspace, contact=c, email=f"customer{c.pk}@bench.example") for c in contacts
    )
    return contacts


def seed(workspace, n, *, batch=2000, seed=7):
    rng = random.Random(seed)
    contacts = make_contacts(workspace, max(1, n // 5), rng)
    now = timezone.now()
    done = 0
    while done < n:
        size = min(batch, n - done)
        with transaction.atomic():
            Workspace.objects.filter(pk=workspace.pk).update(next_ticket_number=F("next_ticket_number") + size)
            first_number = Workspace.objects.values_list("next_ticket_number", flat=True).get(pk=workspace.pk) - size
            tickets = []
            for i in range(size):
                created = now - datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 90))
                tickets.append(Ticket(
                    workspace=workspace, number=first_number + i,
                    subject=rng.choice(SUBJECTS).format(n=f"NW-{rng.randint(100000, 999999)}"),
                    contact=rng.choice(contacts), channel=rng.choice(["email", "email", "web", "api"]),
                    status=rng.choice(STATUSES), priority=rng.choice([0, 1, 1, 1, 2, 3]),
                    category=rng.choice(CATEGORIES), reply_token=new_reply_token(),
                    created_at=created, updated_at=created, last_message_at=created,
                ))
            tickets = Ticket.objects.bulk_create(tickets)
            if not tickets[0].pk:
                tickets = list(Ticket.objects.filter(workspace=workspace, number__gte=first_number).order_by("number"))
            messages = []
            for ticket in tickets:
                for k in range(rng.randint(1, 3)):
                    inbound = k % 2 == 0
                    messages.append(Message(
                        workspace=workspace, ticket=ticket,
                        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                        author_kind=AuthorKind.CONTACT if inbound else AuthorKind.USER,
                        author_contact=ticket.contact if inbound else None,
                        text=rng.choice(BODIES).format(n=f"NW-{rng.randint(100000, 999999)}"),
                        created_at=ticket.created_at + datetime.timedelta(hours=k),
                    ))
            Message.objects.bulk_create(messages)
        done += size
    return done


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", default="bench")
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()
    workspace = ensure_workspace(args.workspace)
    started = time.perf_counter()
    count = seed(workspace, args.n)
    elapsed = time.perf_counter() - started
    engine = django.db.connection.vendor
    print(f"engine={engine} workspace={workspace.slug} tickets={count} seconds={elapsed:.1f} tickets_per_s={count / elapsed:.0f}")


if __name__ == "__main__":
    main()
