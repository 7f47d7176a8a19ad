import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.cache import cache
from django.test import Client

from lbsup.audit.models import AuditEvent
from lbsup.core.login import MAX_FAILURES
from lbsup.testing.personas import PASSWORD


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # Counters live in the cache; a file cache shared with other test runs could be cleared mid-test.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "lbsup-login-tests"}}
    cache.clear()


def attempt(client, username, password, ip="203.0.113.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_it_refuses_a_username_after_five_failures_from_one_address_with_a_clear_message(personas):
    client = Client()
    for _ in range(MAX_FAILURES):
        assert attempt(client, "alice", "wrong").status_code == 200
    refused = attempt(client, "alice", PASSWORD)  # even the right password: no answer about it
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session
    assert attempt(Client(), "alice", PASSWORD, ip="198.51.100.9").status_code == 302  # another address
    assert attempt(Client(), "bob", PASSWORD).status_code == 302  # another username
    assert AuditEvent.objects.filter(verb="auth.login_throttled", data__username="alice").exists()


def test_it_throttles_the_admin_login_too(personas):
    client = Client()
    for _ in range(MAX_FAILURES):
        client.post("/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="203.0.113.7")
    refused = client.post("/admin/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert b"Too many failed sign-in attempts" in refused.content


def test_it_records_logins_and_failures_in_the_audit_log(personas):
    attempt(Client(), "alice", "wrong")
    assert attempt(Client(), "alice", PASSWORD).status_code == 302
    failed = AuditEvent.objects.get(verb="auth.login_failed")
    assert failed.workspace is None and failed.data == {"username": "alice", "ip": "203.0.113.7"}
    logged_in = AuditEvent.objects.get(verb="auth.logged_in")
    assert logged_in.actor_user == personas.alice and logged_in.workspace is None


def test_it_stores_passwords_with_djangos_default_hasher(personas, settings):
    personas.alice.refresh_from_db()
    assert PASSWORD not in personas.alice.password
    assert identify_hasher(personas.alice.password).algorithm == "pbkdf2_sha256"
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
