from django.test import Client

from lbsup.api.models import ApiToken
from lbsup.api.tokens import digest
from lbsup.audit.models import AuditEvent


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_a_new_token_once_and_keeps_only_its_hash(personas):
    client = logged_in(personas.alice)
    response = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "my script",
                                            "role": "representative", "kind": "person"})
    assert response.status_code == 200
    plaintext = response.context["created"].plaintext
    assert plaintext.encode() in response.content
    token = ApiToken.objects.get()
    assert token.user == personas.alice and token.secret_sha256 == digest(plaintext)
    assert plaintext.encode() not in client.get("/api/tokens/").content
    assert AuditEvent.objects.filter(verb="api.token_created", actor_user=personas.alice).exists()


def test_it_refuses_a_role_above_the_users_own_and_service_tokens_for_representatives(personas):
    client = logged_in(personas.alice)
    above = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "x", "role": "lead", "kind": "person"})
    service = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "x", "role": "representative",
                                           "kind": "service"})
    assert above.status_code == service.status_code == 400
    assert b"cannot create a token with the lead role" in above.content
    assert b"Only a lead or admin can create a service token" in service.content
    assert not ApiToken.objects.exists()


def test_it_offers_only_the_users_own_workspaces(personas):
    response = logged_in(personas.charlie).post("/api/tokens/", {"workspace": "bright-smile", "name": "x",
                                                                 "role": "representative", "kind": "person"})
    assert response.status_code == 400 and not ApiToken.objects.exists()
    assert b"Bright Smile" not in response.content


def test_it_lets_the_owner_or_a_lead_revoke_but_hides_tokens_from_others(personas):
    logged_in(personas.alice).post("/api/tokens/", {"workspace": "bright-smile", "name": "alice script",
                                                    "role": "representative", "kind": "person"})
    token = ApiToken.objects.get()
    assert b"alice script" not in logged_in(personas.bob).get("/api/tokens/").content
    assert b"alice script" not in logged_in(personas.charlie).get("/api/tokens/").content
    assert logged_in(personas.charlie).post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    assert logged_in(personas.bob).post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    assert b"alice script" in logged_in(personas.lena).get("/api/tokens/").content
    assert logged_in(personas.lena).post(f"/api/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == personas.lena
    assert AuditEvent.objects.filter(verb="api.token_revoked", actor_user=personas.lena).exists()


def test_it_sends_anonymous_visitors_to_log_in(db):
    response = Client().get("/api/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_lets_an_owner_make_an_owner_token_that_reads_only_the_reports(personas):
    client = logged_in(personas.olivia)
    form = client.get("/api/tokens/").content.decode()
    assert '<option value="owner"' in form and '<option value="bright-smile"' in form
    response = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "owner dashboard", "role": "owner",
                                            "kind": "person"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.role == "owner" and token.user == personas.olivia
    bearer = {"Authorization": f"Bearer {response.context['created'].plaintext}"}
    assert Client().get("/api/w/bright-smile/reports/days", headers=bearer).status_code == 200
    assert Client().get("/api/w/bright-smile/tickets", headers=bearer).status_code == 403
    above = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "x", "role": "representative",
                                         "kind": "person"})
    service = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "x", "role": "owner",
                                           "kind": "service"})
    assert above.status_code == service.status_code == 400 and ApiToken.objects.count() == 1
