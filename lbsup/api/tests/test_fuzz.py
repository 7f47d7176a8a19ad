import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings

from lbsup.api.fuzz import run


@pytest.fixture
def wsgi_app_in_test_transaction():
    # Like Django's test client: a request must not close the connection that holds the
    # test's transaction (PostgreSQL would lose it).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@override_settings(LBSUP_API_RATE_PER_MINUTE=1_000_000)
def test_it_survives_schemathesis_with_no_server_errors_or_schema_violations(
        personas, tokens, draft, wsgi_app_in_test_transaction):
    report = run(wsgi_app_in_test_transaction, token=tokens.lena, slug="bright-smile", max_examples=15,
                 derandomize=True)
    assert report.operations == 34 and report.calls >= report.operations
    assert report.server_errors == 0, [f for f in report.failures if "500" in f[1]][:2]
    assert not report.failures, "\n\n".join(f"{op}: {message}" for op, message in report.failures[:5])
