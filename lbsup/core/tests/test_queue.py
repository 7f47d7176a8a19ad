import uuid

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY
from huey.utils import load_class

from lbsup.core.tasks import ping
from lbsup.followups.tasks import followups_tick
from lbsup.intake.tasks import process_raw_message_job
from lbsup.outbound.tasks import send_outbound_job
from lbsup.triage.tasks import triage_message_job


def configured_queue(tmp_path):
    """A private queue of the configured kind (SqliteHuey, or PriorityRedisHuey when REDIS_URL is set)."""
    config = {k: v for k, v in settings.HUEY.items() if k not in ("consumer", "name", "huey_class", "immediate")}
    if "filename" in config:
        config["filename"] = str(tmp_path / "queue.sqlite3")
    return load_class(settings.HUEY["huey_class"])(f"lbsup-test-{uuid.uuid4().hex}", **config)


def test_it_runs_a_job_through_the_configured_queue(tmp_path):
    """Enqueue on a real queue, then let a worker take it from storage and run it."""
    queue = configured_queue(tmp_path)
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
    expected = "huey.PriorityRedisHuey" if settings.REDIS_URL else "huey.SqliteHuey"
    assert settings.HUEY["huey_class"] == expected


def test_it_runs_jobs_inline_in_unit_tests():
    assert HUEY.immediate
    assert ping("x")() == {"pong": "x"}


@pytest.fixture
def product_jobs_on_a_real_queue(tmp_path):
    """The product's own job functions enqueue into a private queue of the configured kind."""
    queue = configured_queue(tmp_path)
    immediate_storage = HUEY.storage
    HUEY._immediate, HUEY.storage = False, queue.storage  # not the setter: it would open the configured queue
    try:
        yield
    finally:
        queue.flush()
        HUEY._immediate, HUEY.storage = True, immediate_storage


def test_it_takes_intake_and_sending_before_a_triage_backlog(product_jobs_on_a_real_queue):
    for message_id in range(3):
        triage_message_job(message_id)
    send_outbound_job(1)
    process_raw_message_job(2)
    HUEY.enqueue(followups_tick.s())  # as the consumer's scheduler enqueues a periodic task
    taken = [HUEY.dequeue().name for _ in range(6)]
    assert taken == ["process_raw_message_job", "send_outbound_job", "followups_tick"] + ["triage_message_job"] * 3


def test_it_enqueues_many_jobs_in_one_write_keeping_their_order_and_priorities(product_jobs_on_a_real_queue):
    from lbsup.core.queue import enqueue_many

    enqueue_many([(triage_message_job, (n,)) for n in range(3)] + [(process_raw_message_job, (7,))])
    triage_message_job(3)  # one enqueued on its own afterwards queues behind the batch
    taken = [HUEY.dequeue() for _ in range(5)]
    assert [(job.name, job.args) for job in taken] == [("process_raw_message_job", (7,))] + [
        ("triage_message_job", (n,)) for n in range(4)]
    assert HUEY.dequeue() is None
