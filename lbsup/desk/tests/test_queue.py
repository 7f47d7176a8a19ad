import datetime

import pytest
from django.utils import timezone

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.desk import queue, search
from lbsup.tickets.actions import (
    do_add_customer_message,
    do_assign,
    do_change_status,
    do_create_ticket,
)
from lbsup.tickets.models import Ticket

from .conftest import triaged

LAWYER = ("This is the third time I'm writing about this bill. If nobody calls me today "
          "I will talk to my lawyer and dispute the charge with my bank.")


def ticket(workspace, subject, text="Hello", email="someone@mailbox.example", name="Some One", **fields):
    contact = do_find_or_create_contact(SYSTEM, workspace, email, name)
    created = do_create_ticket(SYSTEM, workspace, contact=contact, subject=subject, channel="email", text=text)
    if fields:
        Ticket.objects.filter(pk=created.pk).update(**fields)
        created.refresh_from_db()
    return created


def numbers(response):
    return [t.number for t in response.context["page"].tickets]


def test_it_sorts_by_due_time_with_no_sla_last_then_priority(personas, login):
    now = timezone.now()
    late = ticket(personas.dental, "late", due_at=now - datetime.timedelta(hours=1), priority=0)
    soon_low = ticket(personas.dental, "soon low", due_at=now + datetime.timedelta(hours=1), priority=0)
    soon_high = ticket(personas.dental, "soon high", due_at=now + datetime.timedelta(hours=1), priority=3)
    urgent_no_sla = ticket(personas.dental, "urgent without SLA", priority=3, due_at=None)
    Ticket.objects.filter(pk=personas.dental_ticket.pk).update(due_at=None, priority=1)
    response = login(personas.alice).get("/w/bright-smile/")
    order = numbers(response)
    assert order.index(late.number) < order.index(soon_high.number) < order.index(soon_low.number)
    assert order.index(soon_low.number) < order.index(urgent_no_sla.number)
    assert order.index(urgent_no_sla.number) < order.index(personas.dental_ticket.number)  # same, lower priority


def test_it_pages_with_a_cursor_and_never_repeats_or_skips(personas, login):
    now = timezone.now()
    for i in range(13):
        ticket(personas.dental, f"t{i}", priority=i % 4,
               due_at=now + datetime.timedelta(minutes=i % 3) if i % 2 else None)
    membership = personas.alice.memberships.get(workspace=personas.dental)
    seen, cursor = [], ""
    while True:
        page = queue.page(membership, "open", cursor=cursor, size=4)
        seen += [t.number for t in page.tickets]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    everything = [t.number for t in queue.page(membership, "open", size=100).tickets]
    assert seen == everything and len(seen) == 14


def test_it_steps_through_the_whole_queue_with_j_and_k(personas):
    now = timezone.now()
    for i in range(13):  # ties on due time and priority, with and without an SLA
        ticket(personas.dental, f"t{i}", priority=i % 4,
               due_at=now + datetime.timedelta(minutes=i % 3) if i % 2 else None)
    membership = personas.alice.memberships.get(workspace=personas.dental)
    order = [t.number for t in queue.page(membership, "open", size=100).tickets]
    for i, number in enumerate(order):
        current = Ticket.objects.get(workspace=personas.dental, number=number)
        expected = (order[i - 1] if i else None, order[i + 1] if i + 1 < len(order) else None)
        assert queue.neighbours(membership, "open", current) == expected


def test_it_starts_from_the_top_for_a_mangled_cursor(personas, login):
    response = login(personas.alice).get("/w/bright-smile/?after=not-a-cursor!!")
    assert response.status_code == 200
    assert personas.dental_ticket.number in numbers(response)


def test_it_counts_and_filters_each_view(personas, login):
    now = timezone.now()
    mine = ticket(personas.dental, "mine")
    do_assign(personas.lena, mine, personas.alice)
    Ticket.objects.filter(workspace=personas.dental).update(due_at=None)  # whatever SLA the playbook set
    mine.refresh_from_db()
    ticket(personas.dental, "overdue", due_at=now - datetime.timedelta(minutes=5))
    waiting = ticket(personas.dental, "waiting")
    do_change_status(personas.alice, waiting, "waiting")
    client = login(personas.alice)
    response = client.get("/w/bright-smile/?view=mine")
    assert [t.subject for t in response.context["page"].tickets] == ["mine"]
    counts = {v.key: v.count for v in response.context["views"]}
    assert counts["mine"] == 1 and counts["due"] == 1 and counts["waiting"] == 1
    assert counts["unassigned"] == 2  # the persona's ticket and "overdue"; waiting is not our move
    assert [t.subject for t in client.get("/w/bright-smile/?view=due").context["page"].tickets] == ["overdue"]
    assert [t.subject for t in client.get("/w/bright-smile/?view=waiting").context["page"].tickets] == ["waiting"]
    assert "mine" not in [t.subject for t in client.get("/w/bright-smile/?view=unassigned").context["page"].tickets]


def test_it_shows_an_escalated_row_with_its_first_reason_category_and_mood(personas, dental_playbook, login):
    escalated = triaged(personas.dental, LAWYER, "Billing")
    response = login(personas.bob).get("/w/bright-smile/?view=escalated")
    [row] = response.context["page"].tickets
    assert row.pk == escalated.pk and row.mood in ("annoyed", "frustrated")
    html = response.content.decode()
    assert f"Escalated: {escalated.escalation_reason[:20]}" in html
    assert escalated.category in html and f"{escalated.category_confidence:.2f}" in html
    counts = {v.key: v.count for v in response.context["categories"]}
    assert counts[f"category:{escalated.category}"] == 1


def test_it_lets_only_leads_open_someone_elses_queue(personas, login, client):
    do_assign(personas.lena, personas.dental_ticket, personas.bob)
    assert login(personas.alice).get("/w/bright-smile/?view=person:bob").status_code == 403
    response = login(personas.lena).get("/w/bright-smile/?view=person:bob")
    assert response.status_code == 200 and numbers(response) == [personas.dental_ticket.number]
    assert "person:bob" in [v.key for v in response.context["people"]]


@pytest.mark.parametrize("query", ["Tuesday", "tues", "maria", "MOVE my", "mailbox.example maria"])
def test_it_finds_tickets_by_subject_body_and_contact(personas, login, query):
    response = login(personas.alice).get("/w/bright-smile/", {"q": query})
    assert numbers(response) == [personas.dental_ticket.number]


def test_it_finds_text_of_later_messages_and_keeps_search_inside_the_workspace(personas, login):
    do_add_customer_message(SYSTEM, personas.dental_ticket, text="Also my crown feels loose")
    ticket(personas.shop, "crown order", text="A crown for my dog")
    response = login(personas.alice).get("/w/bright-smile/", {"q": "crown"})
    assert numbers(response) == [personas.dental_ticket.number]
    assert numbers(login(personas.alice).get("/w/bright-smile/", {"q": "dog"})) == []


@pytest.mark.parametrize("hostile", ['"unbalanced', "NEAR(a b)", "subject:move", "a & | ! :* (", "___", "*", "'; DROP"])
def test_it_treats_query_syntax_as_plain_words(personas, login, hostile):
    response = login(personas.alice).get("/w/bright-smile/", {"q": hostile})
    assert response.status_code == 200


def test_it_reduces_a_query_to_word_terms():
    query = search.parse('  "Order NW-104522" refund!  ')
    assert query.terms == ("order", "nw", "104522", "refund")
    assert search.fts5_expression(query) == '"order" "nw" "104522" "refund"*'
    assert search.tsquery_expression(query) == "order & nw & 104522 & refund:*"
    assert search.parse("!!!").empty


def test_it_hides_the_queue_from_outsiders_and_owners(personas, login):
    assert login(personas.charlie).get("/w/bright-smile/?view=escalated").status_code == 404
    assert login(personas.olivia).get("/w/bright-smile/?view=mine").status_code == 403
