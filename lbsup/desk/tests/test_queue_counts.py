"""The queue counts come from the tally the database triggers keep (QueueTally): each count must
equal the number of tickets its own view lists, after every kind of ticket change, after
folding, and while tickets change during a fold."""

import threading

import pytest
from django.db import connection, connections, transaction

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.desk import queue
from lbsup.desk.actions import do_fold_queue_tallies
from lbsup.desk.models import QueueTally
from lbsup.desk.tasks import fold_queue_tallies
from lbsup.tickets.actions import do_assign, do_change_status, do_create_ticket, do_escalate, do_route
from lbsup.tickets.models import Ticket
from lbsup.workspaces.models import Team


def new_ticket(workspace, subject):
    contact = do_find_or_create_contact(SYSTEM, workspace, "pat@mailbox.example", "Pat Doe")
    return do_create_ticket(SYSTEM, workspace, contact=contact, subject=subject, channel="email", text="Hello")


def listed(membership, view):
    return queue.view_tickets(membership, view).count()


def assert_counts_match_the_views(membership):
    counts = queue.counts(membership)
    for view in ("open", "mine", "unassigned", "escalated", "due", "waiting"):
        assert counts[view] == listed(membership, view), view
    assert [(slug, n) for slug, _, n in counts["teams"]] == [
        (team.slug, listed(membership, f"team:{team.slug}")) for team in
        Team.objects.filter(workspace=membership.workspace).order_by("name") if listed(membership, f"team:{team.slug}")]
    categories = {c for c in queue.view_tickets(membership, "open").values_list("category", flat=True) if c}
    assert counts["categories"] == sorted((c, listed(membership, f"category:{c}")) for c in categories)
    for username, n in counts["people"]:
        assert n == listed(membership, f"person:{username}")
    return counts


def test_it_counts_each_view_after_every_kind_of_ticket_change(personas):
    membership = personas.lena.memberships.get(workspace=personas.dental)
    front_desk = Team.objects.get(slug="front-desk")
    tickets = [new_ticket(personas.dental, f"ticket {i}") for i in range(6)]
    do_assign(personas.lena, tickets[0], personas.lena)
    do_assign(personas.lena, tickets[1], personas.alice)
    do_change_status(personas.alice, tickets[1], "waiting")
    do_route(SYSTEM, tickets[2], category="billing", team=front_desk)
    do_escalate(SYSTEM, tickets[3], reasons=["lawyer"], team=front_desk)
    do_change_status(personas.alice, tickets[4], "resolved")
    Ticket.objects.filter(pk=tickets[5].pk).update(category="billing")  # bulk writers are counted too
    new_ticket(personas.shop, "another workspace")
    counts = assert_counts_match_the_views(membership)
    assert (counts["open"], counts["mine"], counts["waiting"], counts["escalated"]) == (6, 1, 1, 1)
    assert counts["categories"] == [("billing", 2)]

    do_assign(personas.lena, tickets[1], None)
    do_change_status(personas.alice, tickets[4], "open")
    do_route(SYSTEM, tickets[2], category="", team=None)
    Ticket.objects.filter(pk=tickets[0].pk).delete()
    assert assert_counts_match_the_views(membership)["open"] == 6


def test_it_folds_the_tally_to_one_row_per_bucket_without_changing_a_count(personas):
    membership = personas.lena.memberships.get(workspace=personas.dental)
    tickets = [new_ticket(personas.dental, f"ticket {i}") for i in range(4)]
    for ticket in tickets:
        do_change_status(personas.alice, ticket, "waiting")
        do_change_status(personas.alice, ticket, "open")
    do_change_status(personas.alice, tickets[0], "closed")
    before = queue.counts(membership)
    rows = QueueTally.objects.filter(workspace=personas.dental)
    assert rows.count() > 4

    fold_queue_tallies.call_local()
    assert queue.counts(membership) == before
    assert sorted(rows.values_list("status", "tickets")) == [("closed", 1), ("new", 1), ("open", 3)]
    do_fold_queue_tallies(personas.dental.pk)
    assert rows.count() == 3


def test_it_folds_more_rows_than_one_batch(personas, monkeypatch):
    monkeypatch.setattr("lbsup.desk.actions.FOLD_BATCH", 3)
    membership = personas.lena.memberships.get(workspace=personas.dental)
    for i in range(4):
        do_change_status(personas.alice, new_ticket(personas.dental, f"ticket {i}"), "waiting")
    before = queue.counts(membership)
    do_fold_queue_tallies(personas.dental.pk)
    assert queue.counts(membership) == before
    assert sorted(QueueTally.objects.filter(workspace=personas.dental).values_list("status", "tickets")) == [
        ("new", 1), ("waiting", 4)]


ONE_WRITER = "SQLite has one writer at a time (and the test database is in memory, not shared by threads)"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason=ONE_WRITER)
def test_it_loses_no_change_made_while_folding(personas):
    membership = personas.lena.memberships.get(workspace=personas.dental)
    tickets = [new_ticket(personas.dental, f"ticket {i}") for i in range(8)]
    done = threading.Event()
    errors = []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as error:  # reported by the assertion below
                errors.append(error)
            finally:
                connections.close_all()
        return threading.Thread(target=run)

    def change_tickets():
        for round_ in range(5):
            for ticket in tickets:
                do_change_status(personas.alice, ticket, "waiting" if round_ % 2 == 0 else "open")
        done.set()

    def keep_folding():
        while not done.is_set():
            do_fold_queue_tallies(personas.dental.pk)

    threads = [in_thread(change_tickets), in_thread(keep_folding), in_thread(keep_folding)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    counts = assert_counts_match_the_views(membership)
    assert (counts["open"], counts["waiting"]) == (9, 8)
    do_fold_queue_tallies(personas.dental.pk)
    assert queue.counts(membership) == counts


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason=ONE_WRITER)
def test_it_never_makes_two_ticket_changes_wait_for_each_other(personas):
    """Two tickets moving between the same buckets at once: the second commits while the first
    is still open, which a shared counter row per bucket would forbid. (Plain updates: the
    actions also lock other rows, which is not what this is about.)"""
    first, second = new_ticket(personas.dental, "first"), new_ticket(personas.dental, "second")
    second_committed = threading.Event()

    def change_second():
        try:
            Ticket.objects.filter(pk=second.pk).update(status="waiting")
            second_committed.set()
        finally:
            connections.close_all()

    with transaction.atomic():
        Ticket.objects.filter(pk=first.pk).update(status="waiting")
        other = threading.Thread(target=change_second)
        other.start()
        assert second_committed.wait(timeout=30)
    other.join()
    membership = personas.lena.memberships.get(workspace=personas.dental)
    assert queue.counts(membership)["waiting"] == 2
