from dataclasses import dataclass

import pytest
from django.test import Client

from lbsup.api.actions import do_create_token
from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_find_or_create_contact
from lbsup.tickets.actions import do_create_ticket
from lbsup.triage.actions import do_triage_message


@dataclass
class Tokens:
    alice: str
    lena: str
    olivia: str
    charlie: str
    service: str  # bright-smile, created by lena


@pytest.fixture
def tokens(personas):
    def person(user, workspace, role):
        return do_create_token(user, workspace, name=f"{user.username} tool", role=role).plaintext

    return Tokens(
        alice=person(personas.alice, personas.dental, "representative"),
        lena=person(personas.lena, personas.dental, "lead"),
        olivia=person(personas.olivia, personas.dental, "owner"),
        charlie=person(personas.charlie, personas.shop, "representative"),
        service=do_create_token(personas.lena, personas.dental, name="order system", role="representative",
                                kind="service").plaintext,
    )


class ApiClient:
    """The Django test client with a bearer token; paths are relative to /api/w/<slug>/."""

    def __init__(self, token, slug="bright-smile"):
        self.client = Client()
        self.token = token
        self.slug = slug

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})} if self.token else dict(headers or {})

    def url(self, path):
        return f"/api/w/{self.slug}/{path.lstrip('/')}"

    def get(self, path, params=None, headers=None):
        return self.client.get(self.url(path), params or {}, headers=self._headers(headers))

    def post(self, path, body, headers=None):
        return self.client.post(self.url(path), body, content_type="application/json", headers=self._headers(headers))

    def patch(self, path, body, headers=None):
        return self.client.patch(self.url(path), body, content_type="application/json", headers=self._headers(headers))


@pytest.fixture
def api():
    return ApiClient


@pytest.fixture
def draft(personas, dental_playbook):
    contact = do_find_or_create_contact(SYSTEM, personas.dental, "pat@mailbox.example", "Pat Doe")
    ticket = do_create_ticket(SYSTEM, personas.dental, contact=contact, subject="Hours", channel="email",
                              text="what time do you open on saturday?")
    do_triage_message(ticket.messages.get(direction="inbound"))
    return ticket.drafts.get()
