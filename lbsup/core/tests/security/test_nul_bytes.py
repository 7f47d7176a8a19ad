"""Issue #17, finding 9: a NUL character (which PostgreSQL cannot store) in any page's query or
form, or in any API operation's query or body, gets a clear 400/422; in mail and imported
history it is removed and the repair is recorded."""

import io
import json

from django.test import Client

from lbsup.core.tests.test_isolation import (  # noqa: F401  (world is a fixture)
    ADMIN_SITE,
    API_OPERATIONS,
    PAGES,
    api_url,
    build_url,
    fill,
    page_routes,
    world,
    api_operations,
)
from lbsup.intake.actions import do_ingest
from lbsup.tickets.history_import import import_history
from lbsup.tickets.models import Ticket


def test_it_refuses_a_nul_in_the_query_or_form_of_every_page(personas, world):
    failures = []
    client = Client()
    client.force_login(personas.lena)
    for route in page_routes():
        if PAGES[route.name] == ADMIN_SITE:
            continue
        url = build_url(route, fill(route, world["bright-smile"]))
        for method, response in (("GET", client.get(url, {"q": "dent\x00al"})),
                                 ("POST", client.post(url, {"text": "hello\x00", "name": "x"}))):
            expected = 422 if route.name.startswith("api:") else 400  # the API's own pages answer as the API
            if response.status_code != expected or b"NUL character" not in response.content:
                failures.append(f"{method} {url} ({route.name}): {response.status_code}")
    assert not failures, "\n".join(failures)


def test_it_answers_422_in_the_api_error_format_for_a_nul_in_any_operations_query_or_body(personas, world):
    from lbsup.api.actions import do_create_token

    token = do_create_token(personas.lena, personas.dental, name="nul", role="lead").plaintext
    headers = {"Authorization": f"Bearer {token}"}
    client = Client()
    failures = []
    for path, method, operation in api_operations():
        url = api_url(path, world["bright-smile"])
        if method == "GET":
            response = client.get(url, {"q": "\x00"}, headers=headers)
        else:
            body = json.dumps({"text": "a note\x00", "subject": "Hi", "name": "x"})
            assert "\\u0000" in body
            response = client.generic(method, url, body, content_type="application/json", headers=headers)
        error = json.loads(response.content).get("error", {}) if response.status_code >= 400 else {}
        if response.status_code != 422 or error.get("code") != "invalid" or "NUL" not in error.get("message", ""):
            failures.append(f"{method} {url} ({operation['operationId']}): {response.status_code} "
                            f"{response.content[:120]!r}")
    assert set(API_OPERATIONS) >= {op["operationId"] for _, _, op in api_operations()}
    assert not failures, "\n".join(failures)


def test_it_refuses_a_nul_in_the_sign_in_and_public_contact_forms(personas):
    client = Client()
    login = client.post("/login/", {"username": "alice\x00", "password": "x"})
    assert login.status_code == 400 and b"NUL character (in a form field)" in login.content
    assert client.post(f"/contact/{personas.dental.slug}/", {"email": "a@example.com", "message": "hi\x00"}).status_code == 400


def test_it_lets_a_nul_free_json_body_with_an_escaped_backslash_through(personas):
    from lbsup.api.actions import do_create_token

    token = do_create_token(personas.alice, personas.dental, name="nul", role="representative").plaintext
    body = json.dumps({"subject": "Path C:\\u0000", "text": "literal backslash-u0000", "email": "pat@example.com"})
    response = Client().post(f"/api/v1/workspaces/{personas.dental.slug}/tickets", body,
                             content_type="application/json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code != 422 or "NUL" not in response.content.decode()


def test_it_removes_nul_characters_from_mail_and_records_the_repair(personas):
    raw = (b"From: Pat <pat@example.com>\r\nTo: hello@brightsmile.example\r\nSubject: Broken\x00 client\r\n"
           b"Message-ID: <nul-1@example.com>\r\n\r\nMy crown\x00 came off\x00 yesterday.\r\n")
    raw_message = do_ingest(personas.dental, raw, channel="smtp")
    message = raw_message.message
    assert message.text.startswith("My crown came off yesterday.")
    assert "\x00" not in message.ticket.subject
    assert "removed 2 NUL characters from the body" in raw_message.detail


def test_it_removes_nul_characters_from_imported_history_and_says_which_row(personas):
    export = io.StringIO(
        "Id,Subject,Requester,Requester email,Status,Via,Created at,Solved at,Comment created at,"
        "Comment author role,Comment\n"
        "101,Late\x00 order,Pat,pat@example.com,open,Mail,2025-03-01 10:00:00,,2025-03-01 10:00:00,end-user,"
        "Where is my order\x00?\n")
    result = import_history(personas.dental, export)
    ticket = Ticket.objects.get(workspace=personas.dental, subject="Late order")
    assert ticket.messages.get().text == "Where is my order?"
    assert [str(p) for p in result.problems] == ["line 2: NUL characters removed; the row was kept"]
