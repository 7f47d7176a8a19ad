import pytest
from playwright.sync_api import expect

from lbsup.testing.personas import PASSWORD

from ..conftest import DAY

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_opens_the_summary_and_follows_a_figure_to_its_tickets(page, counted_day):
    page.goto("/login/")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.goto(f"/w/bright-smile/reports/{DAY.isoformat()}/")
    expect(page.locator("#overview")).to_contain_text("4 new tickets arrived")
    expect(page.locator("svg.chart")).to_have_count(3)
    page.click("a.figure[data-figure='escalations']")
    expect(page.locator("h1")).to_contain_text("Escalations: 2")
    rows = page.locator("#figure-tickets tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-ticket", str(counted_day.t2.number))
    expect(rows.nth(1)).to_have_attribute("data-ticket", str(counted_day.t3.number))
