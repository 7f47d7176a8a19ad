from django.test import Client
from django.urls import reverse

from lbsup.testing.personas import PASSWORD
from lbsup.webhooks.actions import do_create_endpoint, do_emit
from lbsup.webhooks.models import Delivery, Endpoint


def client_for(user):
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_it_lets_leads_manage_endpoints_and_nobody_else(personas):
    url = reverse("webhook_endpoints", args=["bright-smile"])
    lena = client_for(personas.lena)
    assert lena.post(url, {"url": "https://crm.example/hook", "event_types": "lead.*"}).status_code == 302
    assert Endpoint.objects.get(workspace=personas.dental).event_types == ["lead.*"]
    assert client_for(personas.alice).get(url).status_code == 403  # representative
    assert client_for(personas.olivia).get(url).status_code == 403  # owner
    assert client_for(personas.charlie).get(url).status_code == 404  # outsider


def test_it_shows_the_delivery_log_and_retries_from_it(personas):
    do_create_endpoint(personas.lena, personas.dental, url="http://127.0.0.1:9/none")
    [delivery] = do_emit(personas.dental, "lead.updated", {"lead": 1})
    Delivery.objects.filter(pk=delivery.pk).update(state=Delivery.State.FAILED, attempts=14, last_error="HTTP 500")
    lena = client_for(personas.lena)
    page = lena.get(reverse("webhook_endpoints", args=["bright-smile"]))
    assert "failed for good" in page.content.decode()
    detail = lena.get(reverse("webhook_delivery", args=["bright-smile", delivery.pk]))
    assert delivery.idempotency_key in detail.content.decode()
    lena.post(reverse("webhook_delivery_retry", args=["bright-smile", delivery.pk]))
    assert Delivery.objects.get(pk=delivery.pk).state == Delivery.State.PENDING
    other = client_for(personas.charlie).post(reverse("webhook_delivery_retry", args=["bright-smile", delivery.pk]))
    assert other.status_code == 404
