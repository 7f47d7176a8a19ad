"""Test personas in the Healthchecks style: every access rule is tried from three sides."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_create_contact
from lbsup.tickets.actions import do_create_ticket
from lbsup.workspaces.actions import (
    do_create_team,
    do_create_workspace,
    do_set_membership,
)
from lbsup.workspaces.models import Role

PASSWORD = "correct horse battery staple"


@dataclass
class Personas:
    dental: object
    shop: object
    alice: object
    bob: object
    charlie: object
    olivia: object
    lena: object
    dental_ticket: object
    shop_ticket: object


def make_user(username):
    return get_user_model().objects.create_user(username, f"{username}@example.org", PASSWORD)


def make_personas():
    dental = do_create_workspace(SYSTEM, slug="bright-smile", name="Bright Smile Dental",
                                 support_email="hello@brightsmile.example", timezone="America/Los_Angeles")
    shop = do_create_workspace(SYSTEM, slug="northwind", name="Northwind Goods",
                               support_email="help@northwind.example", timezone="America/Chicago")
    front_desk = do_create_team(SYSTEM, dental, slug="front-desk", name="Front desk")
    support = do_create_team(SYSTEM, shop, slug="support", name="Support")
    alice, bob, charlie, olivia, lena = (make_user(n) for n in ("alice", "bob", "charlie", "olivia", "lena"))
    do_set_membership(SYSTEM, dental, alice, Role.REPRESENTATIVE, [front_desk])
    do_set_membership(SYSTEM, dental, bob, Role.REPRESENTATIVE, [front_desk])
    do_set_membership(SYSTEM, shop, charlie, Role.REPRESENTATIVE, [support])
    do_set_membership(SYSTEM, dental, olivia, Role.OWNER)
    do_set_membership(SYSTEM, dental, lena, Role.LEAD, [front_desk])
    maria = do_create_contact(SYSTEM, dental, name="Maria Gonzalez", emails=["maria@mailbox.example"])
    sam = do_create_contact(SYSTEM, shop, name="Sam Carter", emails=["sam@mailbox.example"])
    dental_ticket = do_create_ticket(SYSTEM, dental, contact=maria, subject="Move my cleaning", channel="email",
                                     text="Can I move my cleaning to next Tuesday after 3pm?")
    shop_ticket = do_create_ticket(SYSTEM, shop, contact=sam, subject="Where is NW-104522?", channel="email",
                                   text="My order NW-104522 has not arrived.")
    return Personas(dental, shop, alice, bob, charlie, olivia, lena, dental_ticket, shop_ticket)
