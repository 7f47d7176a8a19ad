"""Issue #17, finding 2: a webhook endpoint is no way into the install's own network.  Loopback,
link-local, private, unspecified, multicast and reserved addresses are refused when an endpoint is
saved and again at every delivery, which connects to the very address it checked; redirects are
not followed, the answer's body is neither kept nor shown, a delivered event is never sent twice,
and every try of one delivery carries the same delivery id."""

import datetime as dt
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse

from lbsup.testing.personas import PASSWORD
from lbsup.webhooks.actions import do_create_endpoint, do_emit, do_retry_delivery
from lbsup.webhooks.delivery import deliver_due
from lbsup.webhooks.models import Delivery, Endpoint

T0 = dt.datetime(2025, 3, 10, 17, 0, tzinfo=dt.timezone.utc)
SECRET_PAGE = "root:x:0:0 internal-admin-token-4711"

REFUSED_HOSTS = [
    # loopback, in every spelling a resolver accepts
    "127.0.0.1", "localhost", "[::1]", "127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]",
    # IPv6 forms that carry a loopback IPv4 address
    "[::127.0.0.1]", "[2002:7f00:1::]", "[64:ff9b::7f00:1]",
    # link-local, with the cloud metadata address
    "169.254.169.254", "[fe80::1]",
    # private networks, IPv6 unique local, carrier-grade NAT
    "10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1", "[fc00::1]", "[fd12:3456::1]", "100.64.0.1",
    # unspecified
    "0.0.0.0", "[::]",
    # multicast and reserved
    "224.0.0.1", "[ff02::1]", "[ff0e::1]", "240.0.0.1", "255.255.255.255",
]


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers each POST with the next planned (status, headers)."""

    def __init__(self, tls=None):
        self.plan, self.received, self.server_names = [], [], []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        if tls:
            tls.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((self.path, dict(self.headers), body))
                status, headers = receiver.plan.pop(0) if receiver.plan else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(SECRET_PAGE.encode())

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def loopback_allowed(settings):
    settings.LBSUP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def connections(monkeypatch):
    """Every TCP connection delivery opens: the network is where lbsup meets the outside world."""
    opened, real = [], socket.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def fake_dns(monkeypatch, answers):
    """`answers[name]`: the addresses the name resolves to, one list per lookup (the last repeats)."""
    real, asked = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def one_delivery(personas, url):
    endpoint = Endpoint.objects.get_or_create(workspace=personas.dental, url=url)[0]
    [delivery] = do_emit(personas.dental, "lead.updated", {"lead": 1}, at=T0)
    return endpoint, delivery


def lena():
    client = Client()
    assert client.login(username="lena", password=PASSWORD)
    return client


def test_it_refuses_an_internal_address_when_the_endpoint_is_saved(personas):
    accepted = []
    for host in REFUSED_HOSTS:
        try:
            do_create_endpoint(personas.lena, personas.dental, url=f"http://{host}:8080/hook")
            accepted.append(host)
        except ValueError:
            pass
    assert accepted == [] and not Endpoint.objects.exists()


def test_it_refuses_an_internal_address_again_at_delivery_without_connecting(personas, receiver, connections):
    # Rows saved before the check existed, pointed at a real server: nothing may reach it.
    for host in REFUSED_HOSTS:
        Endpoint.objects.create(workspace=personas.dental, url=f"http://{host}:{receiver.port}/hook")
    deliveries = do_emit(personas.dental, "lead.updated", {"lead": 1}, at=T0)
    deliver_due(T0)
    outcome = {d.endpoint.url: (d.state, d.attempts, d.last_error) for d in Delivery.objects.select_related("endpoint")}
    assert len(outcome) == len(deliveries) == len(REFUSED_HOSTS)
    not_refused = {url: result for url, result in outcome.items()
                   if result[:2] != (Delivery.State.FAILED, 1)  # failed for good: no retry can help
                   or not (result[2].startswith("refused:") and "does not post there" in result[2])}
    assert not_refused == {}
    assert connections == [] and receiver.received == []


def test_it_refuses_a_name_whose_every_address_is_checked(personas, monkeypatch):
    fake_dns(monkeypatch, {"mixed.example": [["93.184.216.34", "10.0.0.7"]]})
    with pytest.raises(ValueError, match="10.0.0.7"):
        do_create_endpoint(personas.lena, personas.dental, url="https://mixed.example/hook")


def test_it_checks_again_at_delivery_when_a_public_name_turns_private(personas, monkeypatch, connections):
    fake_dns(monkeypatch, {"crm.customer.example": [["93.184.216.34"], ["10.1.2.3"]]})
    do_create_endpoint(personas.lena, personas.dental, url="http://crm.customer.example/hook")
    [delivery] = do_emit(personas.dental, "lead.updated", {"lead": 1}, at=T0)
    deliver_due(T0)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED and "10.1.2.3" in delivery.last_error
    assert connections == []


def test_it_connects_to_the_checked_address_so_dns_rebinding_cannot_switch_it(
        personas, monkeypatch, receiver, loopback_allowed, connections):
    # The first answer passes the check; any later lookup would lead to an internal host.
    asked = fake_dns(monkeypatch, {"rebind.example": [["127.0.0.1"], ["10.9.9.9"]]})
    _, delivery = one_delivery(personas, f"http://rebind.example:{receiver.port}/hook?x=1")
    deliver_due(T0)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    assert asked == ["rebind.example"] and connections == [("127.0.0.1", receiver.port)]
    [(path, headers, _)] = receiver.received
    assert path == "/hook?x=1" and headers["Host"] == f"rebind.example:{receiver.port}"


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command to make a certificate")
def test_it_keeps_sni_and_certificate_checks_for_the_host_name_over_https(
        personas, monkeypatch, tmp_path, loopback_allowed, connections):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=hooks.example", "-addext", "subjectAltName=DNS:hooks.example",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the receiver's certificate is the only trusted one
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    receiver = Receiver(tls)
    try:
        fake_dns(monkeypatch, {"hooks.example": [["127.0.0.1"], ["10.9.9.9"]],
                               "impostor.example": [["127.0.0.1"]]})
        _, delivery = one_delivery(personas, f"https://hooks.example:{receiver.port}/hook")
        deliver_due(T0)
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.DELIVERED
        assert receiver.server_names == ["hooks.example"] and connections == [("127.0.0.1", receiver.port)]
        # The same server under another name: its certificate does not match, so nothing is sent.
        Endpoint.objects.all().delete()
        _, other = one_delivery(personas, f"https://impostor.example:{receiver.port}/hook")
        deliver_due(T0)
        other.refresh_from_db()
        assert other.state == Delivery.State.PENDING and "certificate" in other.last_error.lower()
        assert len(receiver.received) == 1
    finally:
        receiver.close()


def test_it_does_not_follow_a_redirect(personas, receiver, loopback_allowed):
    receiver.plan = [(302, {"Location": f"http://127.0.0.1:{receiver.port}/internal-admin"})]
    _, delivery = one_delivery(personas, f"http://127.0.0.1:{receiver.port}/hook")
    deliver_due(T0)
    delivery.refresh_from_db()
    assert [path for path, _, _ in receiver.received] == ["/hook"]
    assert delivery.state == Delivery.State.FAILED and delivery.last_status == 302
    assert delivery.last_error == "redirect not followed (HTTP 302)"


@pytest.mark.parametrize("status", [200, 500])
def test_it_shows_status_and_timing_but_never_the_answers_body(personas, receiver, loopback_allowed, status):
    receiver.plan = [(status, {})]
    _, delivery = one_delivery(personas, f"http://127.0.0.1:{receiver.port}/hook")
    deliver_due(T0)
    [logged] = delivery.log.all()
    assert logged.status == status
    stored = [str(value) for row in Delivery.objects.filter(pk=delivery.pk).values() for value in row.values()]
    stored += [str(value) for row in delivery.log.values() for value in row.values()]
    assert not any("4711" in value for value in stored)
    page = lena().get(reverse("webhook_delivery", args=["bright-smile", delivery.pk])).content.decode()
    assert f"<td>{status}</td>" in page and "4711" not in page


def test_it_does_not_send_a_delivered_event_again(personas, receiver, loopback_allowed):
    _, delivery = one_delivery(personas, f"http://127.0.0.1:{receiver.port}/hook")
    deliver_due(T0)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED
    do_retry_delivery(personas.lena, delivery, at=T0)
    response = lena().post(reverse("webhook_delivery_retry", args=["bright-smile", delivery.pk]), follow=True)
    assert "Already delivered" in response.content.decode()
    assert deliver_due(T0 + dt.timedelta(minutes=1)) == []
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.DELIVERED and delivery.attempts == 1
    assert len(receiver.received) == 1


def test_it_sends_the_same_delivery_id_on_every_try(personas, receiver, loopback_allowed):
    receiver.plan = [(503, {}), (500, {})]
    _, delivery = one_delivery(personas, f"http://127.0.0.1:{receiver.port}/hook")
    now = T0
    while delivery.state != Delivery.State.DELIVERED:
        deliver_due(now)
        delivery.refresh_from_db()
        now = delivery.next_attempt_at or now
    ids = [headers["X-Lbsup-Delivery"] for _, headers, _ in receiver.received]
    assert ids == [delivery.idempotency_key] * 3
    assert all(headers["X-Lbsup-Signature"].startswith("v1=") for _, headers, _ in receiver.received)
