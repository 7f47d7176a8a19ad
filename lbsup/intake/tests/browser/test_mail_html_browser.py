"""The hostile-HTML corpus, sanitized, rendered in a real chromium: nothing runs, nothing leaves
for a scheme other than http(s)/mailto.

Two renderings: the bare sanitized markup in a page without any Content-Security-Policy (so the
sanitizer alone is tested: a vector that survives would really run and be counted), and the
same markup ingested as a customer mail and opened on the ticket page by a signed-in
representative (where the `page` fixture also fails the test on any CSP refusal)."""

import re
from email.message import EmailMessage

import pytest
from playwright.sync_api import Error as PlaywrightError

from lbsup.intake.actions import do_ingest
from lbsup.intake.mail_html import sanitize_html
from lbsup.intake.tests.xss_corpus import load_vectors
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.models import Ticket

VECTORS = load_vectors()
ALLOWED_NAVIGATION = re.compile(r"(https?://|mailto:|about:blank$)", re.IGNORECASE)

# Counts every way the corpus' payloads report that they ran.
COUNT_SCRIPTS = """
window.__xss = 0;
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function () { window.__xss = (window.__xss || 0) + 1; };
}
"""

# Hover, focus and activate every element, the way a representative reading the mail might.
TOUCH_EVERYTHING = """
(selector) => {
  const events = ["mouseover", "mouseenter", "mousemove", "pointerover", "pointerenter", "mousedown",
                  "mouseup", "focusin", "toggle", "animationstart", "transitionend", "load", "error"];
  const root = document.querySelector(selector);
  for (const el of root.querySelectorAll("*")) {
    try { el.focus(); } catch (e) {}
    for (const type of events) {
      try { el.dispatchEvent(new Event(type, {bubbles: true})); } catch (e) {}
    }
  }
  let links = 0;
  for (const el of root.querySelectorAll("a, area, [href], button, input")) {
    el.click();
    links += 1;
  }
  return links;
}
"""


def watch(context, page):
    """Every dialog, navigation, request and popup the page makes, answered without leaving it."""
    seen = {"dialogs": [], "navigations": [], "requests": [], "popups": []}
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("framenavigated", lambda frame: seen["navigations"].append(frame.url))
    context.on("page", lambda popup: seen["popups"].append(popup.url))
    return seen


def outside_requests(route, seen, own_origin=None):
    if own_origin and route.request.url.startswith(own_origin):
        route.continue_()
        return
    seen["requests"].append(route.request.url)
    route.fulfill(status=204)  # a 204 to a navigation leaves the current document in place


def render_and_touch(page, html):
    page.evaluate("window.__xss = 0")  # each rendering is counted on its own
    page.set_content(f"<!doctype html><meta charset=utf-8><body>{html}</body>")
    links = page.evaluate(TOUCH_EVERYTHING, "body")
    for box in page.evaluate("[...document.body.querySelectorAll('*')].map(e => e.getBoundingClientRect())"
                             ".filter(r => r.width && r.height).map(r => [r.x + r.width / 2, r.y + r.height / 2])"):
        page.mouse.move(*box)
    page.wait_for_timeout(30)
    return links


@pytest.fixture
def bare_page(browser):
    """A page with no CSP and no server: only the sanitizer stands between a vector and chromium."""
    context = browser.new_context(java_script_enabled=True)
    context.add_init_script(COUNT_SCRIPTS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    seen = watch(context, page)
    context.route("**/*", lambda route: outside_requests(route, seen))
    yield page, seen
    context.close()


def test_the_harness_sees_a_vector_that_was_not_sanitized(bare_page):
    page, seen = bare_page
    for raw in ('<img src=x onerror="window.__xss=1">', '<a href="javascript:alert(1)">x</a>',
                '<a href="java&#x09;script:alert(1)">x</a>', '<a href="\x01 javascript:alert(1)">x</a>',
                '<div onmouseover="alert(1)" style="width:50px;height:50px">x</div>'):
        render_and_touch(page, raw)
        page.wait_for_timeout(100)
        assert page.evaluate("window.__xss") >= 1, raw
    render_and_touch(page, '<a href="data:text/html,x">x</a><a href="https://evil.example/">y</a>')
    assert "https://evil.example/" in seen["requests"]


def test_no_sanitized_vector_runs_or_navigates_anywhere_but_http_or_mailto(bare_page):
    page, seen = bare_page
    ran, clicked = [], 0
    for index, vector in enumerate(VECTORS):
        try:
            clicked += render_and_touch(page, sanitize_html(vector))
            if page.evaluate("window.__xss") or page.url != "about:blank":
                ran.append((index, vector, page.url))
        except PlaywrightError as error:  # the page navigated away under the script
            ran.append((index, vector, f"{page.url}: {error.message.splitlines()[0]}"))
            page.goto("about:blank")
    assert ran == []
    assert clicked > 40  # the corpus' links were really there to click, only without their URLs
    assert seen["dialogs"] == [] and seen["popups"] == []
    assert [url for url in seen["navigations"] if not ALLOWED_NAVIGATION.match(url)] == []
    assert [url for url in seen["requests"] if not ALLOWED_NAVIGATION.match(url)] == []


@pytest.mark.django_db(transaction=True)
def test_the_corpus_as_a_customer_mail_runs_nothing_on_the_ticket_page(personas, dental_playbook, page,
                                                                        live_server):
    mail = EmailMessage()
    mail["From"], mail["To"] = "Mallory <mallory@evil.example>", personas.dental.support_email
    mail["Subject"], mail["Message-ID"] = "XSS corpus", "<xss-corpus@evil.example>"
    body = "\n".join(f'<div class="vector">{vector}</div>' for vector in VECTORS)
    mail.set_content(f"<html><body><p>Hello, my account is locked.</p>{body}</body></html>", subtype="html",
                     cte="base64")
    do_ingest(personas.dental, mail.as_bytes(), channel="email")
    ticket = Ticket.objects.get(workspace=personas.dental, subject="XSS corpus")

    context = page.context
    context.add_init_script(COUNT_SCRIPTS)
    seen = watch(context, page)
    context.route("**/*", lambda route: outside_requests(route, seen, own_origin=live_server.url))
    page.goto("/login/")
    page.fill("#id_username", personas.alice.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    ticket_url = f"{live_server.url}/w/bright-smile/tickets/{ticket.number}/"
    page.goto(ticket_url)
    for summary in page.locator("details.html-part > summary").all():
        summary.click()
    assert "my account is locked" in page.locator(".html-body").first.inner_text()
    links = page.locator(".html-body a")
    assert links.count() > 40
    for element in page.locator(".html-body *").all():
        if element.is_visible():
            element.hover(timeout=2_000)
    clicked = page.evaluate(TOUCH_EVERYTHING, ".html-body")
    assert clicked > 40
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") == 0
    assert page.url == ticket_url
    assert seen["dialogs"] == [] and seen["popups"] == []
    assert [url for url in seen["navigations"] if not ALLOWED_NAVIGATION.match(url)] == []
    assert [url for url in seen["requests"] if not ALLOWED_NAVIGATION.match(url)] == []
