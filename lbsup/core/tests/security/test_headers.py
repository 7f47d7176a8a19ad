"""Response headers (issue #17, finding 10): a Content-Security-Policy on every page with no
inline script and no framing, no-store on signed-in pages, a Referrer-Policy, and /api/docs
served from our own static files (no CDN)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

import lbsup

TEMPLATES = sorted(Path(lbsup.__file__).parent.glob("*/templates/**/*.html"))
# Mail templates are read by mail clients, which ignore stylesheets: inline styles are all they have.
MAIL_TEMPLATES = {"reports/email/digest.html"}


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


PAGES = ["ticket_list", "crm_contacts", "followups", "inbound_mail", "playbooks:index", "reports:latest"]


@pytest.mark.parametrize("name", PAGES)
def test_it_sends_a_strict_policy_and_no_store_on_signed_in_pages(personas, name):
    response = signed_in(personas.lena).get(reverse(name, args=["bright-smile"]), follow=True)
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/login/", "/health", "/contact/bright-smile/", "/api/docs"])
def test_it_sends_the_policy_on_public_pages_too(personas, url):
    response = Client().get(url)
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"


def test_it_never_lets_an_api_answer_be_cached(personas):
    from lbsup.api.actions import do_create_token

    created = do_create_token(personas.alice, personas.dental, name="t", role="representative")
    response = Client().get("/api/w/bright-smile/tickets", HTTP_AUTHORIZATION=f"Bearer {created.plaintext}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_it_serves_the_api_docs_from_its_own_static_files():
    html = Client().get("/api/docs").content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in s for s in sources)
    assert all(s.startswith("/static/") for s in sources), sources
    for source in sources:
        assert Client().get(source).status_code == 200


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(Path(lbsup.__file__).parent)))
def test_it_keeps_script_and_style_out_of_templates(template):
    """The policy refuses inline code: a template with some would break in the browser."""
    html = template.read_text()
    name = str(template).split("/templates/", 1)[1]
    inline_scripts = [m for m in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
                      if "src=" not in m[0] and "application/json" not in m[0] and m[1].strip()]
    assert not inline_scripts
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"
    assert "javascript:" not in html.lower()
    if name not in MAIL_TEMPLATES:
        assert not re.search(r"\sstyle\s*=|<style\b", html, re.I), "inline style"
