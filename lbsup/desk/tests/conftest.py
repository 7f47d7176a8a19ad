import pytest

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.actions import do_create_ticket
from lbsup.triage.actions import do_triage_message


@pytest.fixture
def login(client):
    def log_in(user, c=None):
        c = c or client
        assert c.login(username=user.username, password=PASSWORD)
        return c
    return log_in


def triaged(workspace, text, subject="", email="pat@mailbox.example", name="Pat Doe", **fields):
    """A ticket whose first message went through triage (draft, note, escalation applied)."""
    contact = do_find_or_create_contact(SYSTEM, workspace, email, name)
    ticket = do_create_ticket(SYSTEM, workspace, contact=contact, subject=subject, channel="email", text=text,
                              **fields)
    do_triage_message(ticket.messages.get(direction="inbound"))
    ticket.refresh_from_db()
    return ticket
