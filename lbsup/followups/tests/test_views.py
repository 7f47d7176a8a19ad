from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lbsup.followups.models import FollowUp
from lbsup.testing.personas import PASSWORD
from lbsup.tickets.models import Ticket


def client_for(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_it_snoozes_and_sets_a_nudge_from_the_ticket_page(personas):
    ticket = personas.dental_ticket
    later = timezone.now().astimezone(personas.dental.tz) + timezone.timedelta(days=2)
    field = later.strftime("%Y-%m-%dT%H:%M")
    alice = client_for(personas.alice)
    assert alice.post(reverse("followup_snooze", args=["bright-smile", ticket.number]), {"until": field}).status_code == 302
    assert alice.post(reverse("followup_nudge", args=["bright-smile", ticket.number]), {"due_at": field}).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).snoozed_until.astimezone(personas.dental.tz).strftime("%Y-%m-%dT%H:%M") == field
    assert set(FollowUp.objects.values_list("kind", flat=True)) == {"snooze", "nudge"}
    page = alice.get(reverse("followups", args=["bright-smile"])).content.decode()
    assert f"#{ticket.number}" in page


def test_it_keeps_follow_ups_to_the_workspace_desk(personas):
    ticket = personas.dental_ticket
    url = reverse("followup_snooze", args=["bright-smile", ticket.number])
    assert client_for(personas.charlie).post(url, {"until": "2099-01-01T10:00"}).status_code == 404
    assert client_for(personas.olivia).post(url, {"until": "2099-01-01T10:00"}).status_code == 403
    assert client_for(personas.alice).post(url, {"until": "not a date"}).status_code == 302
    assert not FollowUp.objects.exists()
