"""Proof of isolation: every URL pattern (from the resolver) and every API operation (from
the OpenAPI schema) is called as an anonymous visitor, a member of another workspace
(charlie), an owner (olivia), a representative (alice) and a lead (lena).

Foreign objects answer 404, forbidden actions 403, anonymous visitors are sent to log in
(pages) or get 401 (API), and nothing from another workspace appears in any response:
each workspace's tickets, contacts, companies and notes carry a marker string that must
never reach anyone outside that workspace.

A new URL or API operation fails this test until it is classified in PAGES or
API_OPERATIONS below (and its URL parameters in PARAMS), so new endpoints are covered
automatically."""

import datetime
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from lbsup.api.actions import do_create_token
from lbsup.api.api import api
from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_create_company, do_create_contact
from lbsup.demo import PLAYBOOK_DIR
from lbsup.intake.actions import compose_inbound, do_ingest
from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook
from lbsup.testing.personas import make_user
from lbsup.tickets.actions import do_add_note, do_create_ticket
from lbsup.triage.actions import do_triage_message
from lbsup.workspaces.actions import do_set_membership
from lbsup.workspaces.models import Role

DEMO_PLAYBOOKS = PLAYBOOK_DIR
MARKERS = {"bright-smile": "Qx7DentalSecret", "northwind": "Qx7ShopSecret"}

# Who may open a page, by class. anonymous and charlie (not a member of bright-smile) are
# always refused; these list who among olivia (owner), alice (representative) and lena
# (lead) of bright-smile is let in.
PUBLIC = "public"  # anyone, no login
LOGIN = "login-only"  # any logged-in person; the page shows only their own workspaces
DESK = "desk"  # representatives, leads, admins (owners: 403)
LEAD = "lead"  # leads and admins (representatives and owners: 403)
REPORTS = "owner-reports"  # everyone in the workspace, owners included
REPORTS_MANAGE = "reports-manage"  # owners, leads, admins (representatives: 403)
ADMIN_SITE = "admin-site"  # Django admin: staff only; nobody here is staff

ALLOWED = {
    DESK: {"alice", "lena"},
    LEAD: {"lena"},
    REPORTS: {"olivia", "alice", "lena"},
    REPORTS_MANAGE: {"olivia", "lena"},
}

# Every named URL outside the API namespace (API operations are checked from the schema).
PAGES = {
    "home": LOGIN,
    "health": PUBLIC,
    "login": PUBLIC,
    "logout": PUBLIC,
    "two_factor": LOGIN,
    "two_factor_verify": LOGIN,
    "api_tokens": LOGIN,
    "api_token_revoke": LOGIN,
    "api:openapi-json": PUBLIC,
    "api:openapi-view": PUBLIC,
    "api:api-root": PUBLIC,
    "contact_form": PUBLIC,
    "contact_thanks": PUBLIC,
    "inbound_mail": DESK,
    "retry_raw_message": DESK,
    "accept_filtered": DESK,
    "raw_message_source": DESK,
    "assign_raw_message": DESK,
    "reconcile_mail": LEAD,
    "crm_contacts": DESK,
    "crm_contacts_csv": LEAD,
    "crm_contact": DESK,
    "crm_contact_edit": DESK,
    "crm_contact_flags": DESK,
    "crm_contact_merge": DESK,
    "crm_notes": DESK,
    "crm_notes_csv": LEAD,
    "crm_note": DESK,
    "crm_draft_note": DESK,
    "crm_leads": DESK,
    "crm_lead_stage": DESK,
    "reports:latest": REPORTS,
    "reports:schedule": REPORTS_MANAGE,
    "reports:summary": REPORTS,
    "reports:figure_tickets": REPORTS,
    "reports:summary_csv": REPORTS,
    "reports:email_preview": REPORTS,
    "desk_note": DESK,
    "desk_assign": DESK,
    "desk_status": DESK,
    "desk_category": DESK,
    "desk_escalation": DESK,
    "desk_split": DESK,
    "desk_merge": DESK,
    "desk_presence": DESK,
    "desk_draft": DESK,
    "desk_draft_check": DESK,
    "ticket_list": DESK,
    "ticket_detail": DESK,
    "followups": DESK,
    "followup_snooze": DESK,
    "followup_nudge": DESK,
    "followup_cancel": DESK,
    "webhook_endpoints": LEAD,
    "webhook_endpoint_active": LEAD,
    "webhook_delivery": LEAD,
    "webhook_delivery_retry": LEAD,
    "playbooks:index": DESK,
    "playbooks:upload": LEAD,
    "playbooks:diff": DESK,
    "playbooks:version": DESK,
    "playbooks:approve": LEAD,
    "playbooks:reject": LEAD,
    "playbooks:start_replay": LEAD,
    "playbooks:replay": LEAD,
    "playbooks:replay_progress": LEAD,
}
# Pages that answer 400/404 unless a query string picks what to show; the refusals are still checked.
NEEDS_QUERY = {"reports:figure_tickets", "api:api-root", "playbooks:diff"}
ADMIN_NAMESPACE = "admin:"

# API operations by operationId: "read"/"write" need a desk role; "person" also needs a
# person's token (a service token acts as no one); "reports" is read by owners and desk roles.
API_OPERATIONS = {
    "list_tickets": "read",
    "create_ticket": "write",
    "get_ticket": "read",
    "list_messages": "read",
    "add_note": "person",
    "list_triage_results": "read",
    "list_ticket_drafts": "read",
    "get_draft": "read",
    "approve_draft": "person",
    "list_contacts": "read",
    "get_contact": "read",
    "create_contact": "write",
    "list_companies": "read",
    "get_company": "read",
    "create_company": "write",
    "list_playbook_versions": "read",
    "get_playbook_version": "read",
    "upload_playbook": "person",
    "list_crm_notes": "read",
    "get_crm_note": "read",
    "list_contact_crm_notes": "read",
    "list_ticket_crm_notes": "read",
    "draft_crm_note": "person",
    "approve_crm_note": "person",
    "list_leads": "read",
    "get_lead": "read",
    "update_lead": "person",
    "list_followups": "read",
    "get_followup": "read",
    "list_ticket_followups": "read",
    "create_followup": "person",
    "cancel_followup": "person",
    "list_report_days": "reports",
    "get_daily_summary": "reports",
}
# A valid body for writes whose object lives in the URL: sent with a foreign object's id,
# it must reach the object lookup (and 404) rather than stop at validation.
A_WEEK_AHEAD = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)).isoformat()
VALID_BODIES = {"add_note": {"text": "a note"}, "approve_draft": {"text": "hello", "override_reason": "test"},
                "draft_crm_note": {}, "approve_crm_note": {"reviewed": ["summary"]},
                "update_lead": {"next_step": "call back"}, "cancel_followup": {"reason": "done"},
                "create_followup": {"kind": "nudge", "due_at": A_WEEK_AHEAD}}

# URL parameter → which object of the workspace fills it. A (url name, parameter) entry
# wins over a parameter-only entry.
PARAMS = {
    "slug": "slug",
    "workspace_slug": "slug",
    "number": "ticket_number",
    "draft_id": "draft",
    "token_id": "token",
    "date": "today",
    "contact_id": "contact",
    "company_id": "company",
    "version": "playbook_number",
    "note_id": "crm_note",
    "lead_id": "lead",
    "followup_id": "followup",
    ("retry_raw_message", "pk"): "raw_message",
    ("accept_filtered", "pk"): "raw_message",
    ("raw_message_source", "pk"): "raw_message",
    ("assign_raw_message", "pk"): "raw_message",
    ("crm_contact", "pk"): "contact",
    ("crm_contact_edit", "pk"): "contact",
    ("crm_contact_flags", "pk"): "contact",
    ("crm_contact_merge", "pk"): "contact",
    ("crm_note", "pk"): "crm_note",
    ("crm_lead_stage", "pk"): "lead",
    ("followup_cancel", "pk"): "followup",
    ("webhook_endpoint_active", "pk"): "webhook_endpoint",
    ("webhook_delivery", "pk"): "webhook_delivery",
    ("webhook_delivery_retry", "pk"): "webhook_delivery",
    ("playbooks:version", "number"): "playbook_number",
    ("playbooks:approve", "number"): "playbook_number",
    ("playbooks:reject", "number"): "playbook_number",
    ("playbooks:start_replay", "number"): "playbook_number",
    "run_id": "replay_run",
}


@dataclass
class Realm:
    """One workspace's objects, each carrying the workspace's marker."""

    workspace: object
    values: dict = field(default_factory=dict)


def build_realm(personas, workspace, token_owner, approver):
    # Other apps' objects are made directly: only their ids matter here.
    from lbsup.crm.models import CrmNote, Lead
    from lbsup.followups.models import FollowUp
    from lbsup.reports.models import ReplayRun
    from lbsup.webhooks.models import Delivery, Endpoint

    marker = MARKERS[workspace.slug]
    company = do_create_company(SYSTEM, workspace, name=f"{marker} Holdings", domain=f"{marker.lower()}.example")
    contact = do_create_contact(SYSTEM, workspace, name=f"{marker} Person", emails=[f"{marker.lower()}@mail.example"],
                                company=company)
    # Pad so the two workspaces' ticket numbers differ: a foreign number is a missing one.
    for _ in range(2 if workspace == personas.shop else 0):
        do_create_ticket(SYSTEM, workspace, contact=contact, subject="padding", channel="email", text="padding")
    ticket = do_create_ticket(SYSTEM, workspace, contact=contact, subject=f"{marker} subject", channel="email",
                              text=f"Hello, I need help with my appointment {marker}")
    do_add_note(token_owner, ticket, f"internal {marker} note")
    playbook_text = (DEMO_PLAYBOOKS / f"{workspace.slug}.yaml").read_text()
    if workspace == personas.shop:  # per-workspace version numbers differ too
        do_upload_playbook(approver, workspace, playbook_text)
    version = do_approve_playbook(approver, do_upload_playbook(approver, workspace, playbook_text))
    do_triage_message(ticket.messages.get(direction="inbound"))
    draft = ticket.drafts.first()
    raw = do_ingest(workspace, compose_inbound(workspace, from_email=f"{marker.lower()}@mail.example",
                                                subject=f"{marker} by mail", text=f"mail {marker}"), channel="email")
    now = ticket.created_at
    note = CrmNote.objects.create(workspace=workspace, contact=contact, ticket=ticket, created_at=now,
                                  fields=[{"name": "summary", "proposed": marker, "value": marker, "source": "test",
                                           "reviewed": False}])
    lead = Lead.objects.create(workspace=workspace, contact=contact, ticket=ticket, category="new_patient",
                               created_at=now, updated_at=now)
    token = do_create_token(token_owner, workspace, name=f"{marker} token", role="representative").token
    followup = FollowUp.objects.create(workspace=workspace, ticket=ticket, kind=FollowUp.Kind.NUDGE, due_at=now,
                                       created_at=now, note=marker)
    endpoint = Endpoint.objects.create(workspace=workspace, url=f"https://{marker.lower()}.example/hook",
                                       description=marker)
    delivery = Delivery.objects.create(workspace=workspace, endpoint=endpoint, event_type="ticket.created",
                                       payload={"subject": marker}, idempotency_key=f"{marker}-1", created_at=now)
    replay = ReplayRun.objects.create(workspace=workspace, playbook_version=version, created_by=approver)
    return Realm(workspace, {
        "slug": workspace.slug, "ticket_number": ticket.number, "draft": draft.pk if draft else None,
        # The workspace's own today: a day that has not begun there yet answers 404.
        "token": token.pk, "today": timezone.now().astimezone(workspace.tz).date().isoformat(),
        "contact": contact.pk,
        "company": company.pk, "playbook_number": version.number, "raw_message": raw.pk, "crm_note": note.pk,
        "lead": lead.pk, "followup": followup.pk, "webhook_endpoint": endpoint.pk, "webhook_delivery": delivery.pk,
        "replay_run": replay.pk,
    })


@pytest.fixture
def world(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        shop_lead = make_user("nadia")
        do_set_membership(SYSTEM, personas.shop, shop_lead, Role.LEAD)
        dental = build_realm(personas, personas.dental, personas.lena, personas.lena)
        shop = build_realm(personas, personas.shop, personas.charlie, shop_lead)
    return {"bright-smile": dental, "northwind": shop}


# --- enumeration ---------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    name: str
    regex_parts: tuple
    params: tuple
    pattern: object


def routes():
    """Every URL pattern in the project, with its full name and parameters."""
    found = []

    def walk(patterns, prefix, namespace, params):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = namespace + (f"{entry.namespace}:" if entry.namespace else "")
                walk(entry.url_patterns, prefix + [entry.pattern], ns,
                     params + tuple(entry.pattern.regex.groupindex))
            elif isinstance(entry, URLPattern):
                name = namespace + (entry.name or f"<unnamed {entry.lookup_str}>")
                found.append(Route(name, tuple(prefix + [entry.pattern]),
                                   params + tuple(entry.pattern.regex.groupindex), entry))

    walk(get_resolver().url_patterns, [], "", ())
    return found


def param_kind(route_name, param):
    return PARAMS.get((route_name, param)) or PARAMS.get(param)


def build_url(route, values):
    """Reverse by substituting into the route's own regexes, so unnamed and duplicate
    names work too."""
    import re

    url = "/"
    for part in route.regex_parts:
        regex = part.regex.pattern.lstrip("^").rstrip("$").replace(r"\Z", "")
        for param in part.regex.groupindex:
            value = str(values[param])
            regex = re.sub(r"\(\?P<%s>[^)]*\)" % param, value, regex, count=1)
        url += regex.replace("\\", "")
    return url


def api_operations():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method.upper(), operation


# --- classification ------------------------------------------------------------------

def test_it_knows_every_url_pattern_and_api_operation():
    operation_ids = {op["operationId"] for _, _, op in api_operations()}
    problems = []
    for route in routes():
        if route.name.startswith(ADMIN_NAMESPACE) or route.name in PAGES:
            pass
        elif route.name.startswith("api:") and route.name[4:] in operation_ids:
            pass
        else:
            problems.append(f"URL {route.name!r} ({''.join(str(p) for p in route.regex_parts)}) is not classified: "
                            f"add it to PAGES in {__file__} as one of PUBLIC, LOGIN, DESK, LEAD, REPORTS, "
                            f"REPORTS_MANAGE")
        for param in route.params:
            if not route.name.startswith(ADMIN_NAMESPACE) and param_kind(route.name, param) is None:
                problems.append(f"URL {route.name!r} has parameter {param!r} that the isolation test cannot fill: "
                                f"add (\"{route.name}\", \"{param}\") to PARAMS in {__file__} naming the object it "
                                f"refers to (and build that object in build_realm)")
    for operation_id in sorted(operation_ids - set(API_OPERATIONS)):
        problems.append(f"API operation {operation_id!r} is not classified: add it to API_OPERATIONS in {__file__} "
                        f"as 'read', 'write' or 'person'")
    for stale in sorted(set(API_OPERATIONS) - operation_ids):
        problems.append(f"API_OPERATIONS lists {stale!r}, which no longer exists: remove it")
    known = {r.name for r in routes()}
    for stale in sorted(set(PAGES) - known):
        problems.append(f"PAGES lists {stale!r}, which no longer exists: remove it")
    assert not problems, "\n".join(problems)


# --- pages ---------------------------------------------------------------------------

def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def foreign_markers(personas, user):
    if user is None:
        return set(MARKERS.values())
    mine = set(user.memberships.values_list("workspace__slug", flat=True))
    return {marker for slug, marker in MARKERS.items() if slug not in mine}


def assert_no_leak(personas, user, response, label):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for marker in foreign_markers(personas, user):
        assert marker.encode() not in body, f"{label}: shows {marker} from another workspace"


def is_login_redirect(response, login_url):
    return response.status_code == 302 and response["Location"].startswith(login_url)


def fill(route, realm):
    return {param: realm.values[param_kind(route.name, param)] for param in route.params}


def page_routes():
    return [r for r in routes() if r.name in PAGES]


def test_it_refuses_every_page_to_anonymous_visitors_and_outsiders(personas, world):
    dental = world["bright-smile"]
    failures = []
    for route in page_routes():
        kind = PAGES[route.name]
        if kind == PUBLIC:
            continue
        url = build_url(route, fill(route, dental))
        for who, user in (("anonymous", None), ("charlie", personas.charlie), ("olivia", personas.olivia),
                          ("alice", personas.alice)):
            if who in ALLOWED.get(kind, {"olivia", "alice"} if kind == LOGIN else set()):
                continue
            refused_once = False
            for method in ("get", "post"):
                response = getattr(client_for(user), method)(url)
                if user is None:
                    ok = is_login_redirect(response, resolve_url(settings.LOGIN_URL))
                    expected = "a redirect to the login page"
                elif kind == LOGIN:
                    continue
                elif who == "charlie":
                    ok, expected = response.status_code == 404, "404"
                else:
                    ok, expected = response.status_code == 403, "403"
                refused_once |= ok
                if not ok and response.status_code != 405:  # wrong method: the other one must refuse
                    failures.append(f"{method.upper()} {url} ({route.name}, {kind}) as {who}: "
                                    f"{response.status_code}, expected {expected}")
                assert_no_leak(personas, user, response, f"{method.upper()} {url} as {who}")
            if not refused_once and kind != LOGIN:
                failures.append(f"{url} ({route.name}, {kind}) as {who}: neither GET nor POST gave {expected}")
    assert not failures, "\n".join(failures)


def test_it_opens_every_page_to_the_roles_it_is_for_without_showing_other_workspaces(personas, world):
    failures = []
    cases = [("alice", personas.alice, "bright-smile"), ("lena", personas.lena, "bright-smile"),
             ("olivia", personas.olivia, "bright-smile"), ("charlie", personas.charlie, "northwind")]
    for route in page_routes():
        kind = PAGES[route.name]
        if kind == ADMIN_SITE:
            continue
        for who, user, slug in cases:
            allowed = kind in (PUBLIC, LOGIN) or who in ALLOWED[kind] or (who == "charlie" and kind in (DESK, REPORTS))
            if not allowed:
                continue
            url = build_url(route, fill(route, world[slug]))
            response = client_for(user).get(url)
            if response.status_code >= 400 and response.status_code != 405 and not (
                    response.status_code in (400, 404) and route.name in NEEDS_QUERY):
                failures.append(f"GET {url} ({route.name}) as {who}: {response.status_code}")
            assert_no_leak(personas, user, response, f"GET {url} as {who}")
    assert not failures, "\n".join(failures)


def test_it_answers_404_for_another_workspaces_objects_in_your_own_workspace(personas, world):
    """A member of bright-smile asking for a northwind object by id, under bright-smile."""
    dental, shop = world["bright-smile"], world["northwind"]
    failures = []
    for route in page_routes():
        kind = PAGES[route.name]
        object_params = [p for p in route.params if param_kind(route.name, p) not in ("slug", "today")]
        if kind in (PUBLIC, ADMIN_SITE) or not object_params:
            continue
        values = fill(route, dental)
        values.update({p: shop.values[param_kind(route.name, p)] for p in object_params})
        url = build_url(route, values)
        user = personas.lena
        statuses = []
        for method in ("get", "post"):
            response = getattr(client_for(user), method)(url)
            statuses.append(response.status_code)
            assert_no_leak(personas, user, response, f"{method.upper()} {url} as lena")
        if 404 not in statuses or not set(statuses) <= {404, 405}:
            failures.append(f"GET, POST {url} ({route.name}) as lena: {statuses}, expected 404 (405 for a wrong method)")
    assert not failures, "\n".join(failures)


def test_it_keeps_the_admin_site_to_staff(personas, world):
    for route in routes():
        if not route.name.startswith(ADMIN_NAMESPACE) or route.params:
            continue
        url = build_url(route, {})
        for user in (None, personas.alice, personas.lena, personas.olivia):
            response = client_for(user).get(url)
            if route.name in ("admin:login", "admin:logout"):
                assert response.status_code < 500
                continue
            assert is_login_redirect(response, "/admin/login/"), f"GET {url} ({route.name}): {response.status_code}"


# --- API -----------------------------------------------------------------------------

@pytest.fixture
def api_tokens(personas, world):
    def person(user, workspace, role):
        return do_create_token(user, workspace, name="isolation", role=role).plaintext

    return {
        "anonymous": None,
        "charlie": person(personas.charlie, personas.shop, "representative"),
        "olivia": person(personas.olivia, personas.dental, "owner"),
        "service": do_create_token(personas.lena, personas.dental, name="svc", role="lead", kind="service").plaintext,
        "alice": person(personas.alice, personas.dental, "representative"),
        "lena": person(personas.lena, personas.dental, "lead"),
    }


def api_url(path, realm, overrides=None):
    values = {**realm.values, **(overrides or {})}
    for segment in path.split("/"):
        if segment.startswith("{"):
            name = segment[1:-1]
            path = path.replace(segment, str(values[PARAMS[name]] if name not in (overrides or {}) else overrides[name]))
    return path


def call(token, method, url, body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = Client()
    if method == "GET":
        return client.get(url, headers=headers)
    return client.generic(method, url, body, content_type="application/json", headers=headers)


def test_it_enforces_workspace_and_role_on_every_api_operation(personas, world, api_tokens):
    import json

    dental = world["bright-smile"]
    failures = []
    users = {"anonymous": None, "charlie": personas.charlie, "olivia": personas.olivia, "service": personas.lena,
             "alice": personas.alice, "lena": personas.lena}
    for path, method, operation in api_operations():
        op = operation["operationId"]
        kind = API_OPERATIONS[op]
        url = api_url(path, dental)
        # Writes get a body that is not JSON, so an allowed caller changes nothing.
        body = "not json" if method != "GET" else ""
        for who, token in api_tokens.items():
            if who == "anonymous":
                expected = 401
            elif who == "charlie":
                expected = 404
            elif who == "olivia" and kind != "reports":
                expected = 403
            elif who == "service" and kind == "person":
                expected = 403
            else:
                expected = 200 if method == "GET" else 400
            response = call(token, method, url, body)
            if response.status_code != expected and not (expected == 400 and response.status_code == 422):
                failures.append(f"{method} {url} ({op}) as {who}: {response.status_code}, expected {expected}")
            if response.status_code >= 400:
                error = json.loads(response.content).get("error", {})
                if not (error.get("code") and error.get("message")):
                    failures.append(f"{method} {url} ({op}) as {who}: error body {response.content[:200]!r}")
            user = users[who] if who != "service" else personas.lena
            assert_no_leak(personas, user, response, f"{method} {url} as {who}")
    assert not failures, "\n".join(failures)


def test_it_answers_404_for_another_workspaces_objects_through_the_api(personas, world, api_tokens):
    import json

    dental, shop = world["bright-smile"], world["northwind"]
    failures = []
    for path, method, operation in api_operations():
        op = operation["operationId"]
        object_params = [p["name"] for p in operation.get("parameters", [])
                         if p["in"] == "path" and PARAMS[p["name"]] not in ("slug", "today")]
        if not object_params or (method != "GET" and op not in VALID_BODIES):
            continue
        url = api_url(path, dental, {p: shop.values[PARAMS[p]] for p in object_params})
        body = json.dumps(VALID_BODIES.get(op, {})) if method != "GET" else ""
        for who in ("alice", "lena"):
            response = call(api_tokens[who], method, url, body)
            if response.status_code != 404:
                failures.append(f"{method} {url} ({op}) as {who}: {response.status_code}, expected 404")
            assert_no_leak(personas, getattr(personas, who), response, f"{method} {url} as {who}")
    assert not failures, "\n".join(failures)


def test_it_returns_only_the_callers_workspace_from_every_api_read(personas, world, api_tokens):
    """The positive side: readers see their own marker, never the other one."""
    for who, slug in (("alice", "bright-smile"), ("charlie", "northwind")):
        seen = b""
        for path, method, operation in api_operations():
            if method != "GET":
                continue
            response = call(api_tokens[who], "GET", api_url(path, world[slug]), "")
            assert response.status_code == 200, (who, path, response.content[:300])
            seen += response.content
        assert MARKERS[slug].encode() in seen
        assert_no_leak(personas, getattr(personas, who), type("R", (), {"content": seen, "streaming": False}),
                       f"API reads as {who}")
