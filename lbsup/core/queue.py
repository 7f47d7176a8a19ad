"""Putting many jobs on the queue in one write.

A batch of mail enqueues a triage job per message; one storage transaction (SQLite) or one
ZADD (Redis) for all of them instead of one commit each. Every job keeps its own priority,
retries and signals, exactly as if it had been enqueued on its own."""

import struct
import time

from huey.contrib.djhuey import HUEY
from huey.signals import SIGNAL_ENQUEUED
from huey.storage import RedisPriorityQueue, SqliteStorage


def enqueue_many(calls):
    """calls: [(task function, args tuple), …] → the jobs on the queue, in order, in one write."""
    tasks = [function.s(*args) for function, args in calls]
    if not tasks:
        return
    storage = HUEY.storage
    if HUEY.immediate or not isinstance(storage, (SqliteStorage, RedisPriorityQueue)):
        for task in tasks:
            HUEY.enqueue(task)
        return
    for task in tasks:
        if task.expires:
            task.resolve_expires(HUEY.utc)
        HUEY._emit(SIGNAL_ENQUEUED, task)
    rows = [(HUEY.serialize_task(task), task.priority or 0) for task in tasks]
    if isinstance(storage, SqliteStorage):
        with storage.db(commit=True) as cursor:
            cursor.executemany("insert into task (queue, data, priority) values (?, ?, ?)",
                               [(storage.name, storage.to_blob(data), priority) for data, priority in rows])
        return
    # The same member format as RedisPriorityQueue.enqueue: an 8-byte microsecond prefix keeps FIFO order
    # among equal priorities; consecutive values keep this batch's order and its members distinct.
    now = int(time.time() * 1e6)
    storage.conn.zadd(storage.queue_key, {struct.pack(">Q", now + n) + data: -priority
                                          for n, (data, priority) in enumerate(rows)})
