import json

from django.test import Client

from .cli import run_lbsup


def test_it_refuses_a_login_post_without_the_csrf_token(personas):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 403


def test_it_refuses_a_logged_in_form_post_without_the_csrf_token(personas):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.alice)
    response = client.post("/api/tokens/", {"workspace": "bright-smile", "name": "x", "role": "representative",
                                            "kind": "person"})
    assert response.status_code == 403


PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client
plain = Client().get("/health")
secure = Client().get("/login/", secure=True)
print(json.dumps({
    "redirect": [plain.status_code, plain.get("Location", "")],
    "hsts": secure.get("Strict-Transport-Security", ""),
    "nosniff": secure.get("X-Content-Type-Options", ""),
    "frame": secure.get("X-Frame-Options", ""),
    "referrer": secure.get("Referrer-Policy", ""),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, settings.SESSION_COOKIE_SAMESITE],
}))
"""


def test_it_sets_secure_cookies_and_headers_in_production_mode(tmp_path):
    env = {"LBSUP_HTTPS": "1", "LBSUP_VAR_DIR": str(tmp_path), "SECRET_KEY": "p" * 60}
    result = run_lbsup("shell", "--no-imports", "-c", PRODUCTION_PROBE, env=env, unset=["LBSUP_DEBUG", "DATABASE_URL"])
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["redirect"] == [301, "https://testserver/health"]
    assert probe["hsts"].startswith("max-age=31536000") and "includeSubDomains" in probe["hsts"]
    assert probe["nosniff"] == "nosniff" and probe["frame"] == "DENY" and probe["referrer"] == "same-origin"
    assert probe["csrf_cookie_secure"] is True
    assert probe["session_cookie"] == [True, True, "Lax"]
