from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from lbsup.api.actions import do_revoke_token
from lbsup.api.models import ApiToken
from lbsup.audit.actors import SYSTEM
from lbsup.audit.models import AuditEvent
from lbsup.workspaces.actions import do_set_membership


def test_it_answers_401_with_the_error_body_without_a_valid_token(tokens, api):
    for token in ("", "lbs_000000000000_nope", "not-a-token", tokens.alice[:-2] + "xx"):
        response = api(token).get("tickets")
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] in ("unauthenticated",)
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_stops_accepting_a_revoked_token(personas, tokens, api):
    assert api(tokens.alice).get("tickets").status_code == 200
    do_revoke_token(personas.alice, ApiToken.objects.get(user=personas.alice))
    response = api(tokens.alice).get("tickets")
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_revoked"


def test_it_hides_another_workspace_behind_404_and_records_the_refusal(personas, tokens, api):
    response = api(tokens.charlie).get("tickets")  # charlie's token is for northwind
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found"}}
    refusal = AuditEvent.objects.get(verb="api.refused")
    assert refusal.workspace == personas.shop and refusal.actor_user == personas.charlie
    assert refusal.data["status"] == 404 and "bright-smile" in refusal.data["path"]


def test_it_refuses_the_owner_role_the_desk_with_403(personas, tokens, api):
    response = api(tokens.olivia).get("tickets")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert AuditEvent.objects.filter(verb="api.refused", actor_user=personas.olivia, data__status=403).exists()


def test_it_checks_the_role_before_reading_the_body(tokens, api):
    # An outsider must not learn whether a body would have been valid.
    assert api(tokens.olivia).post("tickets", {}).status_code == 403
    assert api(tokens.charlie).post("tickets", {}).status_code == 404
    assert api(tokens.alice).post("tickets", {}).status_code == 422


def test_it_gives_a_person_token_no_more_than_its_persons_current_role(personas, tokens, api):
    assert api(tokens.alice).get("tickets").status_code == 200
    do_set_membership(SYSTEM, personas.dental, personas.alice, "owner")
    assert api(tokens.alice).get("tickets").status_code == 403


def test_it_stops_a_person_token_when_its_person_leaves_the_workspace(personas, tokens, api):
    personas.alice.memberships.all().delete()
    response = api(tokens.alice).get("tickets")
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_owner_left"


@override_settings(LBSUP_API_RATE_PER_MINUTE=3)
def test_it_rate_limits_each_token_with_retry_after(tokens, api):
    statuses = [api(tokens.alice).get("tickets").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api(tokens.alice).get("tickets")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert api(tokens.lena).get("tickets").status_code == 200  # another token has its own window


def test_it_records_token_use_at_most_once_a_minute(personas, tokens, api):
    for _ in range(3):
        api(tokens.alice).get("tickets")
    token = ApiToken.objects.get(user=personas.alice)
    assert AuditEvent.objects.filter(verb="api.token_used", target_id=str(token.pk)).count() == 1
    assert token.last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    api(tokens.alice).get("tickets")
    assert AuditEvent.objects.filter(verb="api.token_used", target_id=str(token.pk)).count() == 2


def test_it_stores_only_a_hash_of_the_secret(tokens):
    for token in ApiToken.objects.all():
        assert all(token.secret_sha256 not in plain and plain not in (token.secret_sha256, token.prefix)
                   for plain in (tokens.alice, tokens.service))
        assert len(token.secret_sha256) == 64
