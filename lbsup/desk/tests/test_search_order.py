"""Search results come in queue order, the same on every database, whether the words are
common (PostgreSQL finds them walking the queue) or rare (it asks the GIN index for every
match). WALK is made small here so a few tickets exercise both ways."""

import datetime

import pytest
from django.utils import timezone

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.desk import queue, search
from lbsup.tickets.actions import do_create_ticket
from lbsup.tickets.models import Ticket


@pytest.fixture
def queue_of_thirty(personas, monkeypatch):
    """30 tickets in a known queue order: "common" in 24 subjects, "rare" in two near the end."""
    monkeypatch.setattr(search, "WALK", 24)
    contact = do_find_or_create_contact(SYSTEM, personas.dental, "pat@mailbox.example", "Pat Doe")
    now = timezone.now()
    numbers = []
    for i in range(30):
        words = "rare" if i in (25, 28) else "common" if i % 5 else "other"
        ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject=f"{words} question {i}",
                                  channel="email", text="Hello")
        Ticket.objects.filter(pk=ticket.pk).update(due_at=now + datetime.timedelta(minutes=i), priority=1)
        numbers.append(ticket.number)
    return personas.alice.memberships.get(workspace=personas.dental), numbers


def expected(membership, words):
    matching = search.filter_tickets(queue.view_tickets(membership, "open"), search.parse(words))
    return list(matching.order_by(*queue.ORDER).values_list("number", flat=True))


def every_page(membership, words, size):
    seen, cursor = [], ""
    while True:
        page = queue.page(membership, "open", text=words, cursor=cursor, size=size)
        seen += [t.number for t in page.tickets]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("words", ["common", "commo", "rare", "question", "nothing at all", "common 1"])
def test_it_pages_through_matches_in_queue_order(queue_of_thirty, words):
    membership, numbers = queue_of_thirty
    assert every_page(membership, words, size=3) == expected(membership, words)


def test_it_finds_rare_words_beyond_the_walk(queue_of_thirty):
    membership, numbers = queue_of_thirty
    assert [t.number for t in queue.page(membership, "open", text="rare", size=3).tickets] == [
        numbers[25], numbers[28]]


def test_it_steps_to_the_neighbouring_matches_with_j_and_k(queue_of_thirty):
    membership, numbers = queue_of_thirty
    middle = Ticket.objects.get(workspace=membership.workspace, number=numbers[28])
    assert queue.neighbours(membership, "open", middle, "rare") == (numbers[25], None)
    common = Ticket.objects.get(workspace=membership.workspace, number=numbers[6])
    assert queue.neighbours(membership, "open", common, "common") == (numbers[4], numbers[7])
    assert queue.neighbours(membership, "open", common, "") == (numbers[5], numbers[7])
