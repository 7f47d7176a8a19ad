"""The job queue's Redis is unreachable while people and tools keep working: what was written
stays written and the caller hears success; the minute sweeps send what could not be queued."""

import logging

import pytest
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from lbsup.api.actions import do_create_token
from lbsup.intake.models import RawMessage
from lbsup.outbound.actions import do_approve_and_send
from lbsup.outbound.models import OutboundEmail
from lbsup.outbound.tasks import send_due_replies
from lbsup.testing.mailservers import find_free_port
from lbsup.tickets.models import Ticket

pytestmark = pytest.mark.faults


@pytest.fixture
def queue_down(transactional_db):
    """Every enqueue goes to a Redis port where nothing listens (connection refused), and the
    writes commit for real, so on-commit enqueues run as they do in production."""
    immediate_storage = HUEY.storage
    HUEY._immediate = False  # not the setter: it would open the configured queue
    HUEY.storage = RedisStorage("lbsup-queue-down", url=f"redis://127.0.0.1:{find_free_port()}/0")
    yield
    HUEY._immediate, HUEY.storage = True, immediate_storage


def test_it_answers_an_api_intake_with_the_ticket_while_the_queue_is_down(personas, queue_down, client, caplog):
    token = do_create_token(personas.lena, personas.dental, name="order system", role="representative",
                            kind="service").plaintext
    with caplog.at_level(logging.ERROR):
        response = client.post("/api/w/bright-smile/tickets", {"from_email": "new@mailbox.example", "text": "Hello?"},
                               content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    # A 500 here would make the tool send again, and without an Idempotency-Key that is a second ticket.
    assert response.status_code == 201
    assert Ticket.objects.filter(workspace=personas.dental, number=response.json()["number"]).exists()
    assert RawMessage.objects.get().state == "processed"
    assert "triage_message_job" in caplog.text  # the lost triage job is logged


def test_it_keeps_an_approval_while_the_queue_is_down_and_the_sweep_sends_it(personas, queue_down, smtp, caplog):
    with caplog.at_level(logging.ERROR):
        outbound = do_approve_and_send(personas.alice, personas.dental_ticket, text="Tuesday works.",
                                       approval_key="draft-1")
    assert OutboundEmail.objects.get(pk=outbound.pk).state == "approved"
    assert "send_outbound_job" in caplog.text

    HUEY.immediate = True  # the queue is back
    send_due_replies()
    assert OutboundEmail.objects.get(pk=outbound.pk).state == "sent"
    assert len(smtp.wait_for(1)) == 1
