"""Faults injected into a running install: PostgreSQL restarted mid-run, Redis killed for a while.

Real processes only: `lbsup smtpd` receives mail, `lbsup run_huey` processes it and sends the
approved replies to an SMTP sink, and the servers they depend on are private ones this module
starts, stops and kills (lbsup.testing.dataservers), never the shared 127.0.0.1:5432/:6379.
Where a periodic sweep (once a minute in production) is what recovers lost jobs, the test runs
that sweep itself instead of waiting for the clock.
"""

import json
import os
import smtplib
import subprocess
import threading
import time
from collections import Counter
from email import policy
from email.message import EmailMessage

import psycopg
import pytest

from lbsup.testing.dataservers import PrivatePostgres, PrivateRedis, postgres_bin_dir
from lbsup.testing.mailservers import LOCALHOST, find_free_port, wait_for_port

from .cli import LBSUP, lbsup_env

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                       reason="runs once, in the SQLite pass: it brings its own PostgreSQL and Redis servers"),
    pytest.mark.skipif(postgres_bin_dir() is None,
                       reason="PostgreSQL server binaries missing (/usr/lib/postgresql/*/bin): apt-get install postgresql"),
]

WORKSPACE = "faults"
SUPPORT = "hello@faults.example"
SETUP = f"""
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from lbsup.audit.actors import SYSTEM
from lbsup.workspaces.actions import do_create_workspace, do_set_membership
workspace = do_create_workspace(SYSTEM, slug="{WORKSPACE}", name="Faults Inc", support_email="{SUPPORT}")
do_set_membership(SYSTEM, workspace, get_user_model().objects.create_user("rep", "rep@example.org", "x"),
                  "representative")
from lbsup.crm.actions import do_create_contact
from lbsup.tickets.actions import do_create_ticket
earlier = do_create_contact(SYSTEM, workspace, name="Earlier Customer", emails=["earlier@mailbox.example"])
for n in range(3):
    do_create_ticket(SYSTEM, workspace, contact=earlier, subject=f"Earlier question {{n}}", channel="email",
                     text="Is my order on its way?")
"""
APPROVE = """
import json
from django.contrib.auth import get_user_model
from lbsup.outbound.actions import do_approve_and_send
from lbsup.tickets.models import Ticket
rep = get_user_model().objects.get(username="rep")
tickets = Ticket.objects.filter(workspace__slug="{workspace}", subject__startswith="{subject}",
                                outbound_emails__isnull=True).order_by("number")
print(json.dumps([do_approve_and_send(rep, t, text=f"Hello, about #{{t.number}}: done.",
                                      approval_key=f"fault-{{t.number}}").pk for t in tickets[:{count}]]))
"""
# What the minute jobs do after an outage: process stored mail, send due replies.
SWEEP = f"""
from django.core.management import call_command
from lbsup.outbound.tasks import send_due_replies
call_command("mail", "resume", "--workspace", "{WORKSPACE}")
send_due_replies.call_local()
"""


class Install:
    """One lbsup install (a database and a var dir), driven only through the `lbsup` command."""

    def __init__(self, var_dir, env):
        self.var_dir = var_dir
        self.env = lbsup_env({"LBSUP_VAR_DIR": str(var_dir), **env}, unset=("DATABASE_URL", "REDIS_URL"))
        self.processes, self._logs = [], []

    def lbsup(self, *args, timeout=120):
        result = subprocess.run([LBSUP, *args], capture_output=True, text=True, env=self.env, timeout=timeout)
        assert result.returncode == 0, f"lbsup {args[0]}: {result.stdout}{result.stderr}"
        return result.stdout

    def python(self, code):
        return self.lbsup("shell", "--no-imports", "-c", code)

    def spawn(self, *args):
        log = open(self.var_dir / f"{args[0]}-{len(self.processes)}.log", "ab")
        self._logs.append(log)
        process = subprocess.Popen([LBSUP, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def logs(self):
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.var_dir.glob("*.log"))

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._logs:
            log.close()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """A private PostgreSQL cluster with a migrated template database holding the workspace."""
    with PrivatePostgres() as server:
        install = Install(tmp_path_factory.mktemp("template"), {"DATABASE_URL": server.create_database("template")})
        install.python(SETUP)
        yield server


@pytest.fixture
def redis():
    with PrivateRedis() as server:
        yield server


def make_install(postgres, tmp_path, smtp_sink, **env):
    """A fresh copy of the template database, a var dir, outbound mail to the sink."""
    name = f"lbsup_{tmp_path.name.replace('-', '_')}"[:60]
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template')
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    return Install(var_dir, {"DATABASE_URL": postgres.url(name), "LBSUP_SMTP_HOST": smtp_sink.host,
                             "LBSUP_SMTP_PORT": str(smtp_sink.port), "LBSUP_WORKER_THREADS": "2", **env})


@pytest.fixture
def install(postgres, tmp_path, smtp_sink):
    install = make_install(postgres, tmp_path, smtp_sink)
    try:
        yield install
    finally:
        install.stop()


@pytest.fixture
def redis_install(postgres, redis, tmp_path, smtp_sink):
    install = make_install(postgres, tmp_path, smtp_sink, REDIS_URL=redis.url(0))
    try:
        yield install
    finally:
        install.stop()


def customer_mail(n):
    mail = EmailMessage(policy=policy.SMTP)  # CRLF line ends: smtplib sends bytes unchanged
    mail["From"] = f"Customer {n} <customer{n}@mailbox.example>"
    mail["To"] = SUPPORT
    mail["Subject"] = f"Question {n}"
    mail["Message-ID"] = f"<fault-{n}@mailbox.example>"
    mail.set_content(f"Hello, this is question number {n}.")
    return mail.as_bytes()


class PatientSender(threading.Thread):
    """Delivers mail the way a sending mail server does: a 4xx answer (or no answer) means try
    again shortly; a 5xx answer is final, and the customer gets a bounce."""

    def __init__(self, port, numbers, pause=0.1, give_up_after=90):
        super().__init__(daemon=True)
        self.port, self.numbers, self.pause = port, list(numbers), pause
        self.deadline = time.monotonic() + give_up_after
        self.accepted, self.bounced, self.deferrals = [], [], []

    def run(self):
        queue = list(self.numbers)
        while queue and time.monotonic() < self.deadline:
            for n in list(queue):  # each pass tries every message still queued, like a mail server's queue run
                code, reply = self.deliver(n)
                if code == 250:
                    self.accepted.append(n)
                elif code >= 500:
                    self.bounced.append((n, code, reply))
                else:
                    self.deferrals.append((n, code, reply))
                    continue
                queue.remove(n)
                time.sleep(self.pause)
            if queue:
                time.sleep(0.3)

    def deliver(self, n):
        try:
            with smtplib.SMTP(LOCALHOST, self.port, timeout=30) as smtp:
                smtp.sendmail(f"customer{n}@mailbox.example", [SUPPORT], customer_mail(n))
            return 250, ""
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = next(iter(refused.recipients.values()))
            return code, reply.decode(errors="replace")
        except smtplib.SMTPResponseException as error:
            return error.smtp_code, error.smtp_error.decode(errors="replace")
        except (OSError, smtplib.SMTPException) as error:
            return 421, f"{type(error).__name__}: {error}"


def query(url, sql, *params):
    with psycopg.connect(url, connect_timeout=5) as connection:
        return connection.execute(sql, params).fetchall()


def wait_until(condition, timeout, what, install):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what} ({states(install.env['DATABASE_URL'])})\n{install.logs()}")


def processed_count(url):
    return query(url, "SELECT count(*) FROM intake_rawmessage WHERE state = 'processed'")[0][0]


def inbound_message_ids(url):
    rows = query(url, "SELECT message_id FROM tickets_message WHERE direction = 'inbound' AND message_id <> ''")
    return Counter(message_id for (message_id,) in rows)


def sink_message_ids(sink):
    from email import message_from_bytes

    return Counter(message_from_bytes(m.raw)["Message-ID"].strip("<>") for m in sink.messages)


def start_mail_and_worker(install, worker=True):
    port = find_free_port()
    install.spawn("smtpd", "--port", str(port))
    if worker:
        install.spawn("run_huey", "--flush-locks")
    assert wait_for_port(port, timeout=60), install.logs()
    return port


def approve(install, subject, count):
    """A representative approves a reply on each of the first `count` tickets with this subject."""
    return json.loads(install.python(APPROVE.format(workspace=WORKSPACE, subject=subject, count=count)).splitlines()[-1])


def states(url):
    return dict(query(url, "SELECT state, count(*) FROM intake_rawmessage GROUP BY state"))


def outbound_states(url):
    return dict(query(url, "SELECT state, count(*) FROM outbound_outboundemail GROUP BY state"))


FIRST, SECOND = range(0, 12), range(12, 30)


def test_it_loses_and_doubles_nothing_when_postgresql_restarts_mid_run(postgres, install, smtp_sink):
    url = install.env["DATABASE_URL"]
    smtp_sink.delay = 0.7  # a slow mail server: replies are still being sent when the database stops
    port = start_mail_and_worker(install)

    first = PatientSender(port, FIRST, pause=0)
    first.run()
    assert first.accepted == list(FIRST)
    wait_until(lambda: processed_count(url) == len(FIRST), 60, "the first mail to be processed", install)
    assert len(approve(install, "Question", len(FIRST))) == len(FIRST)

    second = PatientSender(port, SECOND)
    second.start()
    sent_before_stop = len(smtp_sink.messages)
    postgres.stop("fast")  # every connection is cut, mid-send and mid-ingest
    time.sleep(3)
    postgres.start()
    [(restarted_at,)] = query(url, "SELECT now()")
    second.join(timeout=120)

    assert not second.bounced, f"mail refused for good during the outage: {second.bounced}"
    assert sorted(second.accepted) == list(SECOND)
    assert second.deferrals, "the outage should have been seen by senders as a temporary failure"
    assert sent_before_stop < len(FIRST), "the outage should have started while replies were being sent"

    install.python(SWEEP)
    wait_until(lambda: processed_count(url) == len(FIRST) + len(SECOND), 60, "every message processed", install)
    wait_until(lambda: not query(url, "SELECT 1 FROM outbound_outboundemail WHERE state = 'approved' OR "
                                      "(state = 'sending' AND attempt_started_at > %s)", restarted_at), 60,
               "every reply sent or left in flight by the outage", install)

    # Every customer message exactly once, and every raw message settled.
    assert inbound_message_ids(url) == Counter({f"fault-{n}@mailbox.example": 1 for n in (*FIRST, *SECOND)})
    assert query(url, "SELECT state, count(*) FROM intake_rawmessage GROUP BY state") == [
        ("processed", len(FIRST) + len(SECOND))]
    # Every reply at most once; the ones recorded as sent exactly once. A reply whose `sent` could not
    # be recorded because the database went away stays `sending` for a person to check, never resent.
    outbound = dict(query(url, "SELECT m.message_id, o.state FROM outbound_outboundemail o "
                               "JOIN tickets_message m ON m.id = o.message_id"))
    delivered = sink_message_ids(smtp_sink)
    assert set(outbound.values()) <= {"sent", "sending"}, outbound
    assert set(delivered) <= set(outbound) and set(delivered.values()) == {1}
    assert all(delivered[message_id] == 1 for message_id, state in outbound.items() if state == "sent")
    assert sum(state == "sent" for state in outbound.values()) >= len(FIRST) - 2  # at most one per worker thread
    assert all(process.poll() is None for process in install.processes), "smtpd and the worker ride it out"
    print(f"postgres restart: {len(FIRST) + len(SECOND)} messages stored once ({len(second.deferrals)} deliveries "
          f"answered 4xx during the outage, 0 bounced); {len(FIRST)} replies: {sent_before_stop} sent before the stop, "
          f"{Counter(outbound.values())} in the end, {sum(delivered.values())} emails, 0 duplicates")


QUEUED, DURING, EARLIER = range(0, 6), range(6, 10), 3


def test_it_keeps_mail_and_replies_while_redis_is_down_and_resumes_after(redis, redis_install, smtp_sink):
    install, url = redis_install, redis_install.env["DATABASE_URL"]
    port = start_mail_and_worker(install, worker=False)

    queued = PatientSender(port, QUEUED, pause=0)
    queued.run()
    assert queued.accepted == list(QUEUED)  # stored, and a job each waits in Redis for a worker
    redis.kill()  # no persistence: those jobs are gone

    during = PatientSender(port, DURING, pause=0)
    during.start()
    wait_until(lambda: states(url).get("received") == len(QUEUED) + len(DURING), 60,
               "the raw mail to be stored although it cannot be queued", install)
    assert not during.accepted and not during.bounced
    assert {reply for _, _, reply in during.deferrals} == {"4.3.0 Temporary failure storing the message, try again later"}
    # A representative approves replies meanwhile: the approval stands, its send waits for the sweep.
    assert len(approve(install, "Earlier", EARLIER)) == EARLIER
    assert outbound_states(url) == {"approved": EARLIER}

    install.spawn("run_huey", "--flush-locks")  # a worker started while Redis is away keeps trying
    time.sleep(2)
    redis.start()
    during.join(timeout=120)
    assert sorted(during.accepted) == list(DURING) and not during.bounced
    wait_until(lambda: states(url).get("processed") == len(DURING), 60,
               "the worker to resume with the mail delivered again", install)
    assert states(url) == {"processed": len(DURING), "received": len(QUEUED)}  # their jobs died with Redis

    install.python(SWEEP)  # what the minute jobs do: process stored mail, send due replies
    assert states(url) == {"processed": len(QUEUED) + len(DURING)}
    assert inbound_message_ids(url) == Counter({f"fault-{n}@mailbox.example": 1 for n in (*QUEUED, *DURING)})
    wait_until(lambda: outbound_states(url) == {"sent": EARLIER}, 60, "the approved replies to be sent", install)
    assert sorted(sink_message_ids(smtp_sink).values()) == [1] * EARLIER
    assert all(process.poll() is None for process in install.processes), "smtpd and the worker ride it out"
    print(f"redis outage: {len(QUEUED)} jobs lost with Redis, {len(DURING)} messages answered 4xx "
          f"({len(during.deferrals)} times) and stored raw; all {len(QUEUED) + len(DURING)} processed once; "
          f"{EARLIER} replies approved during the outage, sent once after it")
