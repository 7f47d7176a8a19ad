import uuid

from django.conf import settings
from huey.contrib.djhuey import HUEY
from huey.utils import load_class

from lbsup.core.tasks import ping


def test_it_runs_a_job_through_the_configured_queue(tmp_path):
    """Enqueue on a real queue (SqliteHuey, or RedisHuey when REDIS_URL is set),
    then let a worker take it from storage and run it."""
    config = {k: v for k, v in settings.HUEY.items() if k not in ("consumer", "name", "huey_class", "immediate")}
    if "filename" in config:
        config["filename"] = str(tmp_path / "queue.sqlite3")
    queue = load_class(settings.HUEY["huey_class"])(f"lbsup-test-{uuid.uuid4().hex}", **config)
    try:
        job = queue.task()(ping.func)
        result = job("hello")
        assert queue.pending_count() == 1
        queue.execute(queue.dequeue())
        assert result.get() == {"pong": "hello"}
        assert queue.pending_count() == 0
    finally:
        queue.flush()


def test_it_uses_redis_only_when_redis_url_is_set():
    expected = "huey.RedisHuey" if settings.REDIS_URL else "huey.SqliteHuey"
    assert settings.HUEY["huey_class"] == expected


def test_it_runs_jobs_inline_in_unit_tests():
    assert HUEY.immediate
    assert ping("x")() == {"pong": "x"}
