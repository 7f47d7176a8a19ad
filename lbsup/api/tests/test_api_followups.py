import datetime as dt

from django.utils import timezone

from lbsup.audit.models import AuditEvent
from lbsup.followups.actions import do_set_nudge, do_snooze
from lbsup.followups.models import FollowUp
from lbsup.tickets.actions import do_change_status
from lbsup.tickets.models import Status


def later(**delta):
    return (timezone.now() + dt.timedelta(**delta)).replace(microsecond=0)


def test_it_snoozes_and_sets_a_nudge_as_the_person(personas, tokens, api):
    until = later(days=1)
    snoozed = api(tokens.alice).post("tickets/1/followups", {"kind": "snooze", "due_at": until.isoformat(),
                                                             "note": "after her dentist call"})
    assert snoozed.status_code == 201, snoozed.content
    body = snoozed.json()
    assert body["kind"] == "snooze" and body["state"] == "pending" and body["created_by"] == "alice"
    assert body["ticket"] == 1 and body["overdue"] is False and dt.datetime.fromisoformat(body["due_at"]) == until
    personas.dental_ticket.refresh_from_db()
    assert personas.dental_ticket.snoozed_until == until
    nudge = api(tokens.lena).post("tickets/1/followups", {"kind": "nudge", "due_at": later(days=3).isoformat()})
    assert nudge.status_code == 201 and nudge.json()["created_by"] == "lena"
    assert AuditEvent.objects.filter(verb="ticket.snoozed", actor_user=personas.alice).exists()
    assert AuditEvent.objects.filter(verb="followup.nudge_set", actor_user=personas.lena).exists()
    assert [f["kind"] for f in api(tokens.alice).get("tickets/1/followups").json()] == ["snooze", "nudge"]


def test_it_refuses_a_time_that_is_past_naive_or_too_far(tokens, api):
    for due_at in (later(hours=-1).isoformat(), later(days=400).isoformat(), "2030-01-01T09:00:00", "not a time"):
        response = api(tokens.alice).post("tickets/1/followups", {"kind": "nudge", "due_at": due_at})
        assert response.status_code == 422, (due_at, response.content)
    assert not FollowUp.objects.exists()


def test_it_answers_409_for_snoozing_a_closed_ticket(personas, tokens, api):
    do_change_status(personas.alice, personas.dental_ticket, Status.RESOLVED)
    response = api(tokens.alice).post("tickets/1/followups", {"kind": "snooze", "due_at": later(days=1).isoformat()})
    assert response.status_code == 409 and response.json()["error"]["code"] == "ticket_closed"


def test_it_lists_open_overdue_and_due_soon_followups(personas, tokens, api):
    ticket = personas.dental_ticket
    an_hour_ago = timezone.now() - dt.timedelta(hours=2)
    overdue = do_set_nudge(personas.alice, ticket, an_hour_ago + dt.timedelta(hours=1), now=an_hour_ago)
    soon = do_snooze(personas.alice, ticket, later(minutes=30))
    do_set_nudge(personas.alice, personas.shop_ticket, later(days=1))  # another workspace's ticket

    def ids(**params):
        response = api(tokens.alice).get("followups", params)
        assert response.status_code == 200, response.content
        return [f["id"] for f in response.json()["results"]]

    assert ids() == ids(state="pending") == [soon.pk, overdue.pk]
    assert ids(due="overdue") == [overdue.pk] and ids(due="due_soon") == [soon.pk]
    assert ids(kind="snooze") == [soon.pk] and ids(state="done") == []
    body = api(tokens.alice).get(f"followups/{overdue.pk}").json()
    assert body["overdue"] is True and body["kind"] == "nudge"


def test_it_cancels_a_pending_followup_once(personas, tokens, api):
    followup = do_snooze(personas.alice, personas.dental_ticket, later(days=1))
    cancelled = api(tokens.alice).post(f"followups/{followup.pk}/cancel", {"reason": "she called back"})
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["outcome"] == "she called back"
    personas.dental_ticket.refresh_from_db()
    assert personas.dental_ticket.snoozed_until is None
    again = api(tokens.alice).post(f"followups/{followup.pk}/cancel", {})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_it_keeps_followups_to_their_workspace_and_to_persons(personas, tokens, api):
    shop_followup = do_set_nudge(personas.charlie, personas.shop_ticket, later(days=1), note="Sam Carter parcel")
    assert api(tokens.alice).get(f"followups/{shop_followup.pk}").status_code == 404
    assert api(tokens.alice).post(f"followups/{shop_followup.pk}/cancel", {}).status_code == 404
    assert b"Sam Carter" not in api(tokens.alice).get("followups").content
    assert api(tokens.alice).get("tickets/99/followups").status_code == 404
    body = {"kind": "nudge", "due_at": later(days=1).isoformat()}
    assert api(tokens.service).post("tickets/1/followups", body).json()["error"]["code"] == "person_required"
    assert api(tokens.olivia).post("tickets/1/followups", body).status_code == 403
    assert api(tokens.olivia).get("followups").status_code == 403
    assert api(tokens.charlie).post("tickets/1/followups", body).status_code == 404
    assert FollowUp.objects.get().pk == shop_followup.pk
