import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from lbsup.audit.actors import SYSTEM
from lbsup.testing.personas import PASSWORD
from lbsup.workspaces.actions import do_set_membership
from lbsup.workspaces.models import Role

from .conftest import DAY

SUMMARY = reverse("reports:summary", args=["bright-smile", DAY.isoformat()])
TICKETS = reverse("reports:figure_tickets", args=["bright-smile", DAY.isoformat()])


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def numbers(response):
    return [t.number for t in response.context["tickets"]]


def test_it_links_every_figure_to_exactly_its_tickets(client, personas, counted_day):
    login(client, "olivia")
    page = client.get(SUMMARY)
    assert page.status_code == 200
    summary = page.context["summary"]
    for key, figure in summary.figures.items():
        assert page.context["links"][key] in page.content.decode().replace("&amp;", "&")
        listed = client.get(TICKETS, {"figure": key})
        assert sorted(t.pk for t in listed.context["tickets"]) == sorted(figure.ticket_ids), key


def test_it_lists_the_four_email_tickets_behind_the_channel_figure(client, personas, counted_day):
    c = counted_day
    response = login(client, "alice").get(TICKETS, {"figure": "channel:email"})
    assert numbers(response) == sorted([c.t1.number, c.t3.number, c.t4.number])
    assert reverse("ticket_detail", args=["bright-smile", c.t1.number]) in response.content.decode()


def test_it_shows_owners_the_tickets_without_links_into_the_desk(client, personas, counted_day):
    response = login(client, "olivia").get(TICKETS, {"figure": "escalations"})
    assert numbers(response) == [counted_day.t2.number, counted_day.t3.number]
    assert "/tickets/" not in response.content.decode().split('id="figure-tickets"')[1]


def test_it_keeps_an_owner_out_of_another_business(client, personas, counted_day):
    oscar = get_user_model().objects.create_user("oscar", "oscar@example.org", PASSWORD)
    do_set_membership(SYSTEM, personas.shop, oscar, Role.OWNER)
    login(client, "oscar")
    assert client.get(SUMMARY).status_code == 404
    assert client.get(TICKETS, {"figure": "volume"}).status_code == 404
    assert client.get(reverse("reports:summary", args=["northwind", DAY.isoformat()])).status_code == 200
    login(client, "olivia")
    assert client.get(reverse("reports:summary", args=["northwind", DAY.isoformat()])).status_code == 404


def test_it_keeps_representatives_of_other_workspaces_out(client, personas, counted_day):
    assert login(client, "charlie").get(SUMMARY).status_code == 404


@pytest.mark.parametrize("username, status", [("lena", 200), ("alice", 403), ("olivia", 403), ("charlie", 404)])
def test_it_shows_assist_quality_tickets_to_leads_only(client, personas, counted_day, username, status):
    response = login(client, username).get(TICKETS, {"figure": "quality:escalations:added"})
    assert response.status_code == status


def test_it_shows_the_assist_quality_section_to_leads_only(client, personas, counted_day):
    assert 'id="assist-quality"' in login(client, "lena").get(SUMMARY).content.decode()
    assert 'id="assist-quality"' not in login(client, "olivia").get(SUMMARY).content.decode()


def test_it_draws_charts_as_accessible_inline_svg(client, personas, counted_day):
    page = login(client, "olivia").get(SUMMARY).content.decode()
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 3
    assert '<title>Tickets by category</title>' in page
    assert "<script" not in page


def test_it_downloads_the_figures_as_csv(client, personas, counted_day):
    response = login(client, "olivia").get(reverse("reports:summary_csv", args=["bright-smile", DAY.isoformat()]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_key = {r["figure"]: r for r in rows}
    c = counted_day
    assert by_key["channel:email"]["value"] == "3"
    assert by_key["channel:email"]["tickets"] == f"#{c.t1.number} #{c.t4.number} #{c.t3.number}"
    assert by_key["sla:first_response"]["value"] == "50.0"


def test_it_refuses_unknown_figures_and_days(client, personas):
    login(client, "olivia")
    assert client.get(TICKETS, {"figure": "nope"}).status_code == 404
    assert client.get(reverse("reports:summary", args=["bright-smile", "2025-02-30"])).status_code == 404
    assert client.get(reverse("reports:summary", args=["bright-smile", "2999-01-01"])).status_code == 404


def test_it_lets_owners_choose_when_the_email_goes_out(client, personas):
    url = reverse("reports:schedule", args=["bright-smile"])
    response = login(client, "olivia").post(url, {"send_at": "06:30", "enabled": "on", "extra_recipients": ""})
    assert response.status_code == 302
    assert personas.dental.digest_schedule.send_at.strftime("%H:%M") == "06:30"
    assert login(client, "alice").get(url).status_code == 403
    assert login(client, "charlie").get(url).status_code == 404
    bad = login(client, "olivia").post(url, {"send_at": "06:30", "extra_recipients": "not an address"})
    assert "is not an email address" in bad.content.decode()
