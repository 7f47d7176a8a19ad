"""pytest fixtures for the real test mail servers.

Register project-wide with ``pytest_plugins = ["lbsup.testing.pytest_plugin"]``.
"""

from __future__ import annotations

import pytest

from lbsup.testing.mailservers import ImapServer, SmtpSink, dovecot_available


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: breaks a real server or disk mid-run (PostgreSQL, Redis, SMTP, "
                                       "a full disk); `-m faults` runs only those")


@pytest.fixture
def smtp_sink():
    """A running SmtpSink on a free 127.0.0.1 port, stopped after the test."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def imap_server():
    """A running throw-away dovecot IMAP server; skipped only if dovecot is not installed."""
    if not dovecot_available():
        pytest.skip("dovecot binary missing: apt-get install -y dovecot-imapd")
    with ImapServer() as server:
        yield server


@pytest.fixture
def smtp(settings, smtp_sink):
    """Outbound mail goes to the real SMTP sink (pytest-django otherwise swaps in locmem).
    live_server serves from a thread of this process, so the override reaches it too."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    return smtp_sink
