from unittest import mock

from django.db import OperationalError


def test_it_answers_when_the_database_does(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_it_answers_503_when_the_database_does_not(client, db):
    # The only mock here stands in for a database that has gone away mid-request.
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("gone")):
        response = client.get("/health")
    assert response.status_code == 503
