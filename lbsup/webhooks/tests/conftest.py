import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """A real HTTP endpoint on 127.0.0.1: answers with the next planned status (or stalls)."""

    def __init__(self):
        self.plan = []  # ints (status codes) or "stall"
        self.received = []  # (headers dict, body bytes)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                step = receiver.plan.pop(0) if receiver.plan else 200
                if step == "stall":
                    time.sleep(1.5)
                    step = 200
                try:
                    self.send_response(step)
                    self.end_headers()
                    self.wfile.write(b"ok" if step < 300 else b"boom")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def receiver():
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings):
    # The receivers here listen on 127.0.0.1, which lbsup refuses unless an install allows it.
    settings.LBSUP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
