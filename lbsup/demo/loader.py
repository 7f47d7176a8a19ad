"""Loads the demo businesses from lbsup/demo/data/*.yaml through the actions.

Idempotent: every object is looked up by a natural key first (workspace slug, team
slug, contact email, the demo Message-ID of a ticket's first message), so loading
twice changes nothing."""

import datetime
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_create_company, do_create_contact, do_set_contact_flags
from lbsup.crm.models import Company, ContactEmail
from lbsup.demo import PLAYBOOK_DIR
from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook
from lbsup.playbooks.models import PlaybookVersion
from lbsup.tickets.actions import (
    do_add_customer_message,
    do_add_note,
    do_change_status,
    do_create_ticket,
    do_record_outbound,
)
from lbsup.tickets.models import Direction, Message
from lbsup.triage.tasks import triage_message_job
from lbsup.workspaces.actions import (
    do_create_team,
    do_create_workspace,
    do_set_membership,
)
from lbsup.workspaces.models import Membership, Role, Team, Workspace

DATA_DIR = Path(__file__).parent / "data"
DEMO_SLUGS = ("bright-smile", "northwind")


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    roles: dict  # workspace slug -> role
    superuser: bool = False


DEMO_USERS = (
    DemoUser("rep", "lbsup-demo-rep", {"bright-smile": Role.REPRESENTATIVE, "northwind": Role.REPRESENTATIVE}),
    DemoUser("lead", "lbsup-demo-lead", {"bright-smile": Role.LEAD, "northwind": Role.LEAD}),
    DemoUser("owner-dental", "lbsup-demo-owner", {"bright-smile": Role.OWNER}),
    DemoUser("admin", "lbsup-demo-admin", {"bright-smile": Role.ADMIN, "northwind": Role.ADMIN}, superuser=True),
)


def load_demo(stdout=None):
    users = {u.username: _ensure_user(u) for u in DEMO_USERS}
    for slug in DEMO_SLUGS:
        data = yaml.safe_load((DATA_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))
        with transaction.atomic():
            workspace = _load_business(data, users)
            _ensure_playbook(workspace, users["lead"])
        # Triage runs as background jobs, like for any inbound mail; it is idempotent.
        for message_id in Message.objects.filter(
            workspace=workspace, direction=Direction.INBOUND, triage__isnull=True
        ).values_list("pk", flat=True):
            triage_message_job(message_id)
        if stdout:
            stdout.write(f"{workspace.name}: {workspace.tickets.count()} tickets, {workspace.contacts.count()} contacts")
    return users


def _ensure_playbook(workspace, lead):
    if PlaybookVersion.objects.filter(workspace=workspace).exists():
        return
    text = (PLAYBOOK_DIR / f"{workspace.slug}.yaml").read_text(encoding="utf-8")
    # Loaded by the operator (SYSTEM), approved by the lead: nobody approves their own upload.
    do_approve_playbook(lead, do_upload_playbook(SYSTEM, workspace, text, source=f"{workspace.slug}.yaml"))


def _ensure_user(demo_user):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=demo_user.username,
        defaults={"email": f"{demo_user.username}@lbsup.localhost", "is_staff": demo_user.superuser,
                  "is_superuser": demo_user.superuser},
    )
    if created:
        user.set_password(demo_user.password)
        user.save(update_fields=["password"])
    return user


def _load_business(data, users):
    info = data["workspace"]
    workspace = Workspace.objects.filter(slug=info["slug"]).first() or do_create_workspace(
        SYSTEM, slug=info["slug"], name=info["name"], support_email=info["support_email"],
        timezone=info["timezone"], business_hours=info.get("business_hours", {}), phone=info.get("phone", ""),
    )
    teams = {}
    for team in data.get("teams", []):
        teams[team["slug"]] = Team.objects.filter(workspace=workspace, slug=team["slug"]).first() or do_create_team(
            SYSTEM, workspace, slug=team["slug"], name=team["name"]
        )
    for demo_user in DEMO_USERS:
        role = demo_user.roles.get(workspace.slug)
        if role and not Membership.objects.filter(workspace=workspace, user=users[demo_user.username]).exists():
            member_teams = list(teams.values()) if role != Role.OWNER else []
            do_set_membership(SYSTEM, workspace, users[demo_user.username], role, member_teams)

    companies = {}
    for company in data.get("companies", []):
        companies[company["key"]] = Company.objects.filter(workspace=workspace, name=company["name"]).first() or (
            do_create_company(SYSTEM, workspace, name=company["name"], domain=company.get("domain", ""))
        )
    contacts = {}
    for c in data.get("contacts", []):
        known = ContactEmail.objects.filter(workspace=workspace, email=c["emails"][0].lower()).first()
        if known:
            contacts[c["key"]] = known.contact
            continue
        contact = do_create_contact(
            SYSTEM, workspace, name=c["name"], emails=c["emails"], phones=c.get("phones", []),
            company=companies.get(c.get("company")),
        )
        if c.get("vip") or c.get("sensitive"):
            do_set_contact_flags(users["lead"], contact, vip=bool(c.get("vip")), sensitive=bool(c.get("sensitive")),
                                 reason=c["flag_reason"])
        contacts[c["key"]] = contact

    today = timezone.now().astimezone(workspace.tz).date()
    for index, t in enumerate(data.get("tickets", [])):
        _load_ticket(workspace, index, t, contacts[t["contact"]], users["rep"], today)
    return workspace


def _demo_message_id(workspace, ticket_index, message_index):
    return f"demo.{ticket_index}.{message_index}@{workspace.slug}.lbsup.demo"


def _load_ticket(workspace, index, t, contact, rep, today):
    if Message.objects.filter(workspace=workspace, message_id=_demo_message_id(workspace, index, 0)).exists():
        return
    ticket = None
    for position, m in enumerate(t["messages"]):
        hour, minute = (int(part) for part in m["time"].split(":"))
        day = today - datetime.timedelta(days=m["days_ago"])
        at = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=workspace.tz)
        at = min(at, timezone.now())  # "today 16:00" loaded at 9am must not lie in the future
        message_id = _demo_message_id(workspace, index, position)
        if ticket is None:
            ticket = do_create_ticket(
                SYSTEM, workspace, contact=contact, subject=t["subject"], channel=t["channel"], text=m["text"],
                at=at, message_id=message_id,
            )
        elif m["from"] == "customer":
            do_add_customer_message(SYSTEM, ticket, text=m["text"], at=at, message_id=message_id)
        elif m["from"] == "rep":
            do_record_outbound(rep, ticket, text=m["text"], at=at, message_id=message_id)
        else:
            do_add_note(rep, ticket, m["text"], at=at)
    status = t.get("status", "new")
    if status != ticket.status:
        do_change_status(SYSTEM, ticket, status, reason="demo data")
