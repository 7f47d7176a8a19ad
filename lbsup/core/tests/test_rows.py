"""insert_row, insert_rows and update_rows write what the ORM's save() and update() would."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from lbsup.audit.models import AuditEvent
from lbsup.core.rows import insert_row, insert_rows, update_rows
from lbsup.crm.models import Contact, ContactEmail
from lbsup.tickets.models import Ticket


def stored(model, pk):
    return model_to_dict(model.objects.get(pk=pk))


def test_it_inserts_the_row_that_save_would(personas):
    fields = dict(workspace=personas.dental, name="Åsa Nygård", phones=["+1 310 555 0100"], vip=True)
    by_orm, by_helper = Contact(**fields), Contact(**fields)
    by_orm.save()
    insert_row(by_helper)
    assert by_helper.pk is not None and by_helper.pk != by_orm.pk
    assert not by_helper._state.adding
    assert by_helper.created_at is not None  # auto_now_add, as save() sets it
    orm_row, helper_row = stored(Contact, by_orm.pk), stored(Contact, by_helper.pk)
    assert {**helper_row, "id": None} == {**orm_row, "id": None}
    assert abs(Contact.objects.get(pk=by_helper.pk).created_at - by_orm.created_at) < timedelta(seconds=5)


def test_it_raises_the_orms_integrity_error_on_a_duplicate(personas):
    contact = insert_row(Contact(workspace=personas.dental, name="Tom"))
    insert_row(ContactEmail(workspace=personas.dental, contact=contact, email="tom@example.com"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(ContactEmail(workspace=personas.dental, contact=contact, email="tom@example.com"))


def test_it_inserts_many_rows_with_their_json_data(personas):
    events = [AuditEvent(workspace=personas.dental, actor_kind="system", verb=f"test.{n}", data={"n": n, "ü": [n]})
              for n in range(3)]
    insert_rows(AuditEvent, events)
    assert list(AuditEvent.objects.filter(verb__startswith="test.").order_by("verb").values_list("verb", "data")) == [
        (f"test.{n}", {"n": n, "ü": [n]}) for n in range(3)]


def test_it_updates_each_row_with_its_own_values_and_nothing_else(personas):
    tickets = list(Ticket.objects.order_by("pk")[:2])  # one in each workspace
    assert len(tickets) == 2
    untouched = [stored(Ticket, ticket.pk) for ticket in tickets]
    due = timezone.now().replace(microsecond=0)
    for n, ticket in enumerate(tickets):
        ticket.due_at, ticket.subject = due + timedelta(hours=n), f"changed {n}"
    update_rows(Ticket, tickets, ["due_at"])
    for n, (ticket, before) in enumerate(zip(tickets, untouched)):
        after = stored(Ticket, ticket.pk)
        assert after == {**before, "due_at": due + timedelta(hours=n)}  # the subject was not in the fields
