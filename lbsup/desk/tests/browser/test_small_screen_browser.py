"""The queue and the ticket page on a phone (issue #19, item 10): at 390 px nothing makes the
page scroll sideways, and the reply editor and its buttons stay within the screen."""

import pytest

from lbsup.desk.tests.browser.test_desk_browser import ESCALATING, dental, log_in, mail  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def overflowing(page):
    """What sticks out past the right edge of the screen, by tag and class, for the failure message."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                     && getComputedStyle(e).position !== 'fixed' && e.getClientRects().length)
        .filter(e => !e.closest('pre, .playbook-source, .table-scroll'))
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : ''))
        .slice(0, 8)""")


def test_it_fits_the_queue_and_the_ticket_page_on_a_390_px_phone(personas, dental, page, screenshot):  # noqa: F811
    ticket = mail(dental, "Cleaning, third time asking, and a very long subject line that goes on and on",
                  ESCALATING + " https://example.com/a/very/long/link/that/has/no/spaces/in/it/at/all/anywhere",
                  "phone-1@mailbox.example")
    page.set_viewport_size(PHONE)
    log_in(page, personas.alice)
    for name, path in (("queue", "/w/bright-smile/"), ("ticket", f"/w/bright-smile/tickets/{ticket.number}/")):
        page.goto(path)
        page.wait_for_load_state()
        screenshot(f"phone-{name}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width, overflowing(page))
        # Squeezed instead of overflowing is no better: the thread and the reply use the full width.
        for selector in ("section.message", "#draft-text"):
            if page.locator(selector).count():
                assert page.locator(selector).first.bounding_box()["width"] >= PHONE["width"] * 0.75, (path, selector)
    editor = page.locator("#draft-text").bounding_box()
    assert editor and editor["x"] >= 0 and editor["x"] + editor["width"] <= PHONE["width"]
