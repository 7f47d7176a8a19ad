"""Load: representatives work the queue and approve drafts while mail arrives, against a real
server started here on loopback; then a check, from the database and the SMTP sink, that nothing
was lost or doubled.

    .venv/bin/python bench/load.py                      # both setups, one after the other
    .venv/bin/python bench/load.py --setup postgres --reps 8 --duration 20 --max-requests 6000 --mail 24 --backlog 8

Setups (each in a throw-away directory, everything on 127.0.0.1):
  sqlite    `lbsup serve` (gunicorn 2 workers × 4 threads, one Huey worker) on SQLite, queue on SQLite.
  postgres  gunicorn (2 × 4) and two `lbsup run_huey` consumers on a new database on 127.0.0.1:5432
            (user postgres; created and dropped here), queue on Redis 127.0.0.1:6379 database 12
            and cache on 13 (both must be empty at the start; only those two are flushed).
Both: the demo businesses (their triage backlog dropped: the demo tickets wait without drafts),
`lbsup smtpd` for inbound mail, an aiosmtpd sink for outbound mail.

Per run: --backlog customer messages arrive and are triaged first (drafts waiting). Then N
representatives (threads) log in to the desk and loop over the queue (API and desk page), one of
the newest tickets (API and desk page), its drafts, and approve the open draft (half through the
desk form, half through the API with a person token); meanwhile --mail more messages arrive, half
by SMTP and half through the API intake. The load stops at --duration seconds or --max-requests
representative requests; then it waits for the workers and checks: every accepted message stored
exactly once; every approved draft one email in the sink (no duplicate Message-IDs); no SLA
reminder or breach fired twice (at least one minute tick of the periodic jobs is awaited).
Prints figures; asserts nothing.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_clients import Budget, CustomerMail, MailFeed, RepAccount, Representative, Stats  # noqa: E402

from lbsup.testing.mailservers import SmtpSink, find_free_port, wait_for_port  # noqa: E402

LBSUP = str(Path(sys.executable).parent / "lbsup")
POSTGRES_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_QUEUE_DB = 12  # the cache takes the next database (see settings._cache)
PASSWORD = "load-test-password-7c1f"
SETUPS = ("sqlite", "postgres")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=SETUPS, action="append", help="default: both, one after the other")
    parser.add_argument("--reps", type=int, default=8, help="concurrent representatives")
    parser.add_argument("--duration", type=float, default=20, help="seconds of load (an upper bound)")
    parser.add_argument("--max-requests", type=int, default=6000, help="representative requests (an upper bound)")
    parser.add_argument("--mail", type=int, default=24, help="customer messages delivered during the load")
    parser.add_argument("--backlog", type=int, default=8,
                        help="customer messages delivered and triaged before the load: drafts waiting for the reps")
    parser.add_argument("--drain-timeout", type=float, default=60, help="seconds to wait for the workers afterwards")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    setups = args.setup or list(SETUPS)
    if args.child:
        return run_setup(setups[0], args)
    started, load_before = time.monotonic(), os.getloadavg()[0]
    forwarded = [f"--reps={args.reps}", f"--duration={args.duration}", f"--max-requests={args.max_requests}",
                 f"--mail={args.mail}", f"--backlog={args.backlog}", f"--drain-timeout={args.drain_timeout}",
                 f"--seed={args.seed}"]
    failed = False
    for setup in setups:
        # One process per setup: Django's settings (database, queue) are fixed at start-up.
        failed |= subprocess.run([sys.executable, __file__, "--child", "--setup", setup, *forwarded]).returncode != 0
    print(f"\nall setups: {time.monotonic() - started:.0f} s "
          f"(1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs)")
    return 1 if failed else 0


# --------------------------------------------------------------------------- one setup


def run_setup(setup, args):
    timings = {}
    clock = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"lbsup-load-{setup}-"))
    sink = SmtpSink().start()
    env = {"LBSUP_VAR_DIR": str(workdir / "var"), "LBSUP_SMTP_HOST": sink.host, "LBSUP_SMTP_PORT": str(sink.port),
           "LBSUP_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "lbsup.settings"}
    database = None
    if setup == "postgres":
        database = f"lbsup_load_{uuid.uuid4().hex[:8]}"
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{REDIS_QUEUE_DB}"
        spare_redis_databases(check_empty=True)
        create_database(database)
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    os.environ.update(env)
    processes = []
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        # The servers boot while the demo loads: both take a while on two cores.
        web_port, smtp_port = find_free_port(), find_free_port()
        processes = start_servers(setup, web_port, smtp_port, workdir)
        workers_started = time.time()
        accounts, intake_tokens, mails = prepare(args)
        warm_up(web_port, smtp_port, processes, workdir)
        timings["migrate, demo, accounts, servers up"] = time.monotonic() - clock
        clock = time.monotonic()
        backlog, mails = mails[:args.backlog], mails[args.backlog:]
        backlog_delivered = deliver_backlog(backlog, web_port, smtp_port, intake_tokens)
        timings[f"backlog of {len(backlog)} delivered and triaged"] = time.monotonic() - clock
        report = run_load(args, web_port, smtp_port, accounts, intake_tokens, mails)
        report["accepted"] += backlog_delivered
        clock = time.monotonic()
        drained = drain(args.drain_timeout, sink, report, workers_started)
        timings["drain"] = time.monotonic() - clock
        check = verify(report, sink)
        print_report(setup, args, report, check, timings, drained)
        return 0
    finally:
        stop(processes)
        sink.stop()
        if database:
            from django.db import connections

            connections.close_all()
            drop_database(database)
            spare_redis_databases(check_empty=False)
        shutil.rmtree(workdir, ignore_errors=True)


def create_database(name):
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(name):
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def spare_redis_databases(check_empty):
    """The queue's and the cache's Redis databases: refuse to start on data that is not ours;
    afterwards flush those two, nothing else."""
    import redis

    for db in (REDIS_QUEUE_DB, REDIS_QUEUE_DB + 1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        if check_empty and client.dbsize():
            sys.exit(f"Redis database {db} on 127.0.0.1:6379 is not empty; not using it")
        if not check_empty:
            client.flushdb()


def prepare(args):
    """The demo businesses, N representatives with a person token each, a service token per
    workspace for the intake, and the customer mail to deliver (from the demo's first messages)."""
    import yaml
    from django.contrib.auth import get_user_model
    from huey.contrib.djhuey import HUEY

    from lbsup.api.actions import do_create_token
    from lbsup.audit.actors import SYSTEM
    from lbsup.demo.loader import DATA_DIR, DEMO_SLUGS, load_demo
    from lbsup.intake.mailparse import parse_message
    from lbsup.workspaces.actions import do_set_membership
    from lbsup.workspaces.models import Role, Workspace

    users = load_demo()
    # The demo queues triage for its ~90 messages (a minute or more of CPU here); drop that backlog,
    # so the workers triage the load's mail as it arrives. The demo tickets stay, without drafts.
    HUEY.flush()
    workspaces = [Workspace.objects.get(slug=slug) for slug in DEMO_SLUGS]
    accounts = []
    for n in range(args.reps):
        user = get_user_model().objects.create_user(f"load-rep-{n}", f"load-rep-{n}@example.org", PASSWORD)
        for workspace in workspaces:
            do_set_membership(SYSTEM, workspace, user, Role.REPRESENTATIVE)
        workspace = workspaces[n % len(workspaces)]
        token = do_create_token(user, workspace, name="load test", role=Role.REPRESENTATIVE).plaintext
        accounts.append(RepAccount(user.username, PASSWORD, workspace.slug, token, approves_in_desk=n % 4 >= 2))
    intake_tokens = {w.slug: do_create_token(users["lead"], w, name="load intake", role=Role.REPRESENTATIVE,
                                             kind="service").plaintext for w in workspaces}
    rng = random.Random(args.seed)
    questions = {}
    for workspace in workspaces:
        data = yaml.safe_load((DATA_DIR / f"{workspace.slug}.yaml").read_text(encoding="utf-8"))
        questions[workspace.slug] = [(t["subject"], t["messages"][0]["text"]) for t in data["tickets"]
                                     if t["messages"][0]["from"] == "customer"]
    run = uuid.uuid4().hex[:8]
    mails = []
    while len(mails) < args.backlog + args.mail:
        n = len(mails)
        workspace = workspaces[n % len(workspaces)]
        subject, text = rng.choice(questions[workspace.slug])
        customer = rng.randrange(60)
        mail = CustomerMail(workspace=workspace.slug, channel=("smtp", "api")[(n // 2) % 2],
                            to=workspace.support_email, sender=f"load-customer-{customer}@customers.example",
                            sender_name=f"Load Customer {customer}", subject=subject, text=text,
                            key=f"load-{run}-{n}@customers.example")
        if not parse_message(mail.as_bytes()).auto:  # the demo's auto-replies are kept out of the queue
            mails.append(mail)
    return accounts, intake_tokens, mails


def start_servers(setup, web_port, smtp_port, workdir):
    def spawn(name, command):
        log = open(workdir / f"{name}.log", "ab")
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())

    if setup == "sqlite":
        processes = [spawn("serve", [LBSUP, "serve", "--host", "127.0.0.1", "--port", str(web_port), "--web-workers", "2"])]
    else:
        processes = [spawn("gunicorn", [sys.executable, "-m", "gunicorn", "lbsup.wsgi:application", "--bind",
                                        f"127.0.0.1:{web_port}", "--workers", "2", "--threads", "4"])]
        processes += [spawn(f"huey-{n}", [LBSUP, "run_huey"]) for n in range(2)]
    processes.append(spawn("smtpd", [LBSUP, "smtpd", "--host", "127.0.0.1", "--port", str(smtp_port)]))
    return processes


def warm_up(web_port, smtp_port, processes, workdir, timeout=180):
    """Both servers answering (gunicorn's workers booted, not just its port open)."""
    import requests

    deadline = time.monotonic() + timeout

    def ready():
        if any(p.poll() is not None for p in processes):
            logs = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}" for log in workdir.glob("*.log"))
            raise SystemExit(f"a server process exited during start-up\n{logs}")
        try:
            healthy = requests.get(f"http://127.0.0.1:{web_port}/health", timeout=5).status_code == 200
        except requests.RequestException:
            healthy = False
        return healthy and wait_for_port(smtp_port, timeout=0.1)

    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit("the servers did not get ready in time")
        time.sleep(0.5)


def deliver_backlog(mails, web_port, smtp_port, intake_tokens, timeout=180):
    """Mail that arrived before the representatives start, triaged: drafts waiting for them."""
    from huey.contrib.djhuey import HUEY

    feed = MailFeed(mails, 0, Stats(), smtp_port=smtp_port, base_url=f"http://127.0.0.1:{web_port}",
                    tokens=intake_tokens)
    feed.run()
    deadline = time.monotonic() + timeout
    while HUEY.pending_count() and time.monotonic() < deadline:
        time.sleep(0.5)
    return feed.accepted


def run_load(args, web_port, smtp_port, accounts, intake_tokens, mails):
    from django.utils import timezone

    base = f"http://127.0.0.1:{web_port}"
    stats, budget = Stats(), Budget(args.max_requests, args.duration)
    reps = [Representative(base, account, stats, budget, seed=args.seed + n) for n, account in enumerate(accounts)]
    for rep in reps:
        rep.start()
    for rep in reps:
        rep.logged_in.wait()
    # Mail arrives over the first two thirds of the run, so its drafts are there to approve.
    spread = args.duration * 2 / 3
    feeds = [MailFeed([m for m in mails if m.channel == "smtp"], spread, stats, smtp_port=smtp_port),
             MailFeed([m for m in mails if m.channel == "api"], spread, stats, base_url=base, tokens=intake_tokens)]
    started_at, started = timezone.now(), time.monotonic()
    budget.start()
    for feed in feeds:
        feed.start()
    for rep in reps:
        rep.join()
    load_seconds = time.monotonic() - started
    for feed in feeds:
        feed.join()
    return {
        "stats": stats, "seconds": load_seconds, "started_at": started_at,
        "approved": set().union(*(rep.approved_drafts for rep in reps)),
        "accepted": [m for feed in feeds for m in feed.accepted],
        "refused": [m for feed in feeds for m in feed.refused],
        "mail answers": sum((feed.answers for feed in feeds), Counter()),
    }


def drain(timeout, sink, report, workers_started):
    """Wait for the workers: mail processed, approved replies sent (the triage backlog may still
    be running); and for at least one minute tick of the periodic jobs (SLA timers) since the
    workers started."""
    from lbsup.intake.models import RawMessage
    from lbsup.outbound.models import OutboundEmail

    deadline = time.monotonic() + timeout
    first_tick = (int(workers_started // 60) + 1) * 60 + 10  # the next minute boundary, plus time to run

    def settled():
        replies = set(OutboundEmail.objects.values_list("message__message_id", flat=True))
        return (not RawMessage.objects.filter(state__in=["received", "failed"]).exists()
                and not OutboundEmail.objects.filter(state__in=["approved", "sending"]).exists()
                and sum(1 for mail in sink_message_ids(sink) if mail in replies) == len(replies)
                and time.time() >= first_tick)

    while time.monotonic() < deadline:
        if settled():
            return True
        time.sleep(0.5)
    return False


def message_id_of(received):
    from email import message_from_bytes

    return message_from_bytes(received.raw)["Message-ID"].strip("<>")


def subject_of(received):
    from email import message_from_bytes
    from email.policy import default

    return str(message_from_bytes(received.raw, policy=default)["Subject"])


def sink_message_ids(sink):
    return Counter(message_id_of(m) for m in sink.messages)


def verify(report, sink):
    from huey.contrib.djhuey import HUEY

    from lbsup.audit.models import AuditEvent
    from lbsup.drafts.models import Draft
    from lbsup.followups.models import SlaEvent
    from lbsup.intake.mailparse import normalize_message_id
    from lbsup.intake.models import RawMessage
    from lbsup.outbound.models import OutboundEmail
    from lbsup.tickets.models import Message
    from lbsup.workspaces.models import Workspace

    workspaces = {w.slug: w for w in Workspace.objects.all()}
    copies = Counter()
    for mail in report["accepted"]:
        message_id = expected_message_id(mail, workspaces[mail.workspace], normalize_message_id)
        copies[mail.key] = Message.objects.filter(workspace=workspaces[mail.workspace], message_id=message_id).count()
    outbound = OutboundEmail.objects.filter(approved_at__gte=report["started_at"])
    approved_drafts = Draft.objects.filter(state="approved", decided_at__gte=report["started_at"])
    sink_ids = sink_message_ids(sink)
    our_ids = set(outbound.values_list("message__message_id", flat=True))
    replies_in_sink = Counter({message_id: n for message_id, n in sink_ids.items() if message_id in our_ids})
    fired = Counter((e.target_id, e.data.get("clock"), e.data.get("due_at"))
                    for e in AuditEvent.objects.filter(verb__in=["sla.reminder", "sla.breached"]))
    return {
        "ingested": len(report["accepted"]),
        "stored once": sum(1 for n in copies.values() if n == 1),
        "missing": sum(1 for n in copies.values() if n == 0),
        "doubled": sum(1 for n in copies.values() if n > 1),
        "raw not settled": RawMessage.objects.filter(state__in=["received", "failed"]).count(),
        "approved (client saw success)": len(report["approved"]),
        "approved drafts (database)": approved_drafts.count(),
        "outbound emails": outbound.count(),
        "outbound by state": dict(Counter(outbound.values_list("state", flat=True))),
        "replies in the sink": sum(replies_in_sink.values()),
        "duplicate Message-IDs in the sink": sum(1 for n in sink_ids.values() if n > 1),
        "other mail in the sink": sorted(subject_of(m) for m in sink.messages if message_id_of(m) not in our_ids),
        "triage jobs still queued": HUEY.pending_count(),
        "approvals without a draft approved": len(report["approved"] - set(approved_drafts.values_list("pk", flat=True))),
        "SLA events fired (reminders + breaches)": sum(fired.values()),
        "SLA events fired twice": sum(1 for n in fired.values() if n > 1),
        "SLA event rows fired": SlaEvent.objects.filter(fired_at__isnull=False).count(),
    }


def expected_message_id(mail, workspace, normalize):
    """By SMTP the Message-ID is the key; through the API the intake derives it from the Idempotency-Key."""
    if mail.channel == "smtp":
        return normalize(f"<{mail.key}>")
    from email import message_from_bytes

    from lbsup.intake.actions import compose_inbound

    composed = compose_inbound(workspace, from_email=mail.sender, message_key=mail.key)
    return normalize(message_from_bytes(composed)["Message-ID"])


def stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def print_report(setup, args, report, check, timings, drained):
    stats = report["stats"]
    rep_kinds = {k for k in stats.latencies if not k.startswith("mail:")}
    rep_requests = stats.total(rep_kinds)
    print(f"\n=== {setup}: {args.reps} representatives, {report['seconds']:.1f} s of load, "
          f"{len(report['accepted'])} messages delivered ({len(report['refused'])} refused)")
    for name, seconds in timings.items():
        print(f"  {name}: {seconds:.1f} s")
    print(f"  representative requests: {rep_requests} ({rep_requests / report['seconds']:.1f} req/s), "
          f"errors (5xx, unexpected 4xx, connection): {stats.errors()}")
    print(f"  {'request kind':<20} {'count':>6} {'p50 ms':>8} {'p95 ms':>8}  outcomes")
    for kind, count, p50, p95, outcomes in stats.rows():
        print(f"  {kind:<20} {count:>6} {p50:>8.1f} {p95:>8.1f}  {outcomes}")
    for answer, count in report["mail answers"].most_common(5):
        print(f"  mail answer x{count}: {answer}")
    for sample in stats.error_samples:
        print(f"  error: {sample}")
    for mail in report["refused"][:5]:
        print(f"  refused: {mail.channel} {mail.key} {mail.subject!r}")
    print(f"  workers settled after the load: {'yes' if drained else 'NO (timed out)'}")
    for name, value in check.items():
        print(f"  {name}: {value}")
    print("RESULT " + json.dumps({"setup": setup, "requests": rep_requests, "seconds": round(report["seconds"], 1),
                                  "errors": stats.errors(), **{k: v for k, v in check.items()}}, default=str))


if __name__ == "__main__":
    sys.exit(main())
