"""Issue #17, finding 1 and the login basics: throttled sign-in that no spelling of a username
escapes, per address and per account limits, audit of every attempt."""

import re

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client

from lbsup.audit.models import AuditEvent
from lbsup.core import login
from lbsup.core.login import MAX_FAILURES
from lbsup.testing.personas import PASSWORD


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


@pytest.mark.parametrize("spelling", ["ALICE", "Alice", "\uff41\uff4c\uff49\uff43\uff45", "a\uff4cice", " alice "])
def test_it_counts_every_spelling_of_a_username_against_the_same_account(personas, spelling):
    client = Client()
    for _ in range(MAX_FAILURES):
        attempt(client, "alice", "wrong")
    # The fullwidth form is what NFKC maps to "alice": it reached the real account unthrottled before.
    refused = attempt(client, spelling, PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session


def test_it_counts_failures_of_other_spellings_against_the_real_username(personas):
    client = Client()
    for number in range(MAX_FAILURES):
        attempt(client, "\uff41lice" if number % 2 else "ALICE", "wrong")
    assert attempt(client, "alice", PASSWORD).status_code == 429


def test_it_limits_one_address_across_all_usernames(personas, monkeypatch):
    monkeypatch.setattr(login, "MAX_FAILURES_PER_ADDRESS", 8)  # each failure costs a password hash
    client = Client()
    for number in range(8):
        attempt(client, f"nobody{number}", "wrong")
    refused = attempt(client, "bob", PASSWORD)
    assert refused.status_code == 429
    assert attempt(Client(), "bob", PASSWORD, ip="198.51.100.9").status_code == 302


def test_it_limits_one_account_across_all_addresses(personas, monkeypatch):
    monkeypatch.setattr(login, "MAX_FAILURES_PER_ACCOUNT", 8)
    for number in range(8):
        attempt(Client(), "alice", "wrong", ip=f"10.0.{number}.1")
    assert attempt(Client(), "alice", PASSWORD, ip="198.51.100.9").status_code == 429
    assert attempt(Client(), "bob", PASSWORD, ip="198.51.100.9").status_code == 302


def test_it_refuses_with_the_same_words_whether_or_not_the_account_exists(personas):
    answers = []
    for username in ("alice", "no-such-user"):
        client = Client()
        for _ in range(MAX_FAILURES):
            attempt(client, username, "wrong")
        refused = attempt(client, username, "wrong")
        assert refused.status_code == 429
        answers.append(re.search(r'role="alert">([^<]*)<', refused.content.decode()).group(1))
    assert answers[0] == answers[1]


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
