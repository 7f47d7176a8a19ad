import datetime as dt

from django.test import Client
from django.utils import timezone

from lbsup.api.auth import OWNER_REFUSAL
from lbsup.audit.actors import SYSTEM
from lbsup.reports.models import DailySummary
from lbsup.tickets.actions import do_create_ticket
from lbsup.workspaces.models import Workspace


def today(workspace):
    return timezone.now().astimezone(workspace.tz).date()


def test_it_gives_an_owner_the_page_figures_with_the_tickets_behind_each(personas, tokens, api):
    for n in range(2):  # northwind is busier today; none of it may show in bright-smile's figures
        do_create_ticket(SYSTEM, personas.shop, contact=personas.shop_ticket.contact, subject=f"again {n}",
                         channel="email", text="still waiting")
    day = today(personas.dental).isoformat()
    response = api(tokens.olivia).get(f"reports/days/{day}")
    assert response.status_code == 200, response.content
    body = response.json()
    figures = {f["key"]: f for s in body["sections"] for f in s["figures"]}
    assert figures["volume"]["value"] == 1 and figures["volume"]["tickets"] == [1]
    assert figures["channel:email"]["tickets"] == [1] and figures["customers:new"]["tickets"] == [1]
    assert figures["volume"]["url"] == f"http://testserver/w/bright-smile/reports/{day}/tickets/?figure=volume"
    assert body["url"] == f"http://testserver/w/bright-smile/reports/{day}/" and body["digest"] is None
    assert body["timezone"] == "America/Los_Angeles" and body["volume_history"][-1] == {"date": day, "count": 1}

    page = Client()
    page.force_login(personas.olivia)
    summary = page.get(f"/w/bright-smile/reports/{day}/").context["summary"]
    assert {key: f["value"] for key, f in figures.items()} == {key: f.value for key, f in summary.figures.items()}
    assert body["overview"] == summary.overview


def test_it_keeps_an_owner_token_to_the_reports(tokens, api):
    olivia = api(tokens.olivia)
    for path in ("tickets", "tickets/1", "contacts", "companies", "crm-notes", "leads", "followups", "playbooks"):
        response = olivia.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"] == {"code": "forbidden", "message": OWNER_REFUSAL}
    assert olivia.post("tickets", {"from_email": "x@example.org", "text": "hi"}).status_code == 403
    assert olivia.get("reports/days").status_code == 200


def test_it_shows_no_workspace_but_the_tokens_own(personas, tokens, api):
    day = today(personas.shop).isoformat()
    assert api(tokens.olivia, slug="northwind").get(f"reports/days/{day}").status_code == 404
    assert api(tokens.olivia, slug="northwind").get("reports/days").status_code == 404
    assert api(tokens.charlie).get("reports/days").status_code == 404
    assert api(tokens.charlie, slug="northwind").get(f"reports/days/{day}").status_code == 200


def test_it_lists_days_newest_first_with_the_digest_and_pages_them(personas, tokens, api):
    first = today(personas.dental) - dt.timedelta(days=3)
    Workspace.objects.filter(pk=personas.dental.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    sent_at = timezone.now() - dt.timedelta(hours=20)
    yesterday = today(personas.dental) - dt.timedelta(days=1)
    DailySummary.objects.create(workspace=personas.dental, date=yesterday, state="sent", sent_at=sent_at)
    olivia = api(tokens.olivia)

    page = olivia.get("reports/days", {"limit": 2}).json()
    assert [d["date"] for d in page["results"]] == [today(personas.dental).isoformat(), yesterday.isoformat()]
    assert page["results"][0] == {"date": today(personas.dental).isoformat(), "tickets_opened": 1, "digest": None}
    assert page["results"][1]["digest"]["state"] == "sent" and page["results"][1]["tickets_opened"] == 0
    assert page["next_cursor"] == yesterday.isoformat()
    rest = olivia.get("reports/days", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [d["date"] for d in rest["results"]] == [(yesterday - dt.timedelta(days=1)).isoformat(), first.isoformat()]
    assert rest["next_cursor"] is None
    assert olivia.get("reports/days", {"cursor": first.isoformat()}).json() == {"results": [], "next_cursor": None}
    assert olivia.get(f"reports/days/{yesterday.isoformat()}").json()["digest"]["state"] == "sent"


def test_it_has_no_summary_for_a_day_to_come_or_before_the_workspace(personas, tokens, api):
    olivia = api(tokens.olivia)
    tomorrow = today(personas.dental) + dt.timedelta(days=1)
    assert olivia.get(f"reports/days/{tomorrow.isoformat()}").status_code == 404
    assert olivia.get("reports/days/2001-01-01").status_code == 404
    assert olivia.get("reports/days/2025-02-30").status_code == 422
    assert olivia.get("reports/days", {"cursor": "yesterday"}).status_code == 422
