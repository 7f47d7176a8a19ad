"""Ingest rate: parse + store + thread (``do_ingest_batch``) over a directory of .eml files.

    .venv/bin/python bench/ingest.py --make-corpus /tmp/corpus -n 2000
    .venv/bin/python bench/threading_corpus.py /tmp/threads -n 2000   # conversations, shuffled
    .venv/bin/python bench/ingest.py --workspace bench-ingest --eml-dir /tmp/corpus [-n N]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/lbsup_bench .venv/bin/python bench/ingest.py ...

Without DATABASE_URL the run uses a throw-away SQLite file (LBSUP_VAR_DIR in a temp folder),
never the project's own var/. It times do_ingest_batch over batches of INGEST_BATCH files, the
path `lbsup ingest FILE…` takes (the IMAP poll takes it too, a FETCH of up to 50 at a time);
--single times do_ingest per file, the path of a message arriving alone (SMTP, form, API).
The workspace must be new or empty: the corpus's replies carry
[#N] ticket tags computed for a workspace whose first ticket is #1. Prints figures, asserts nothing.

The corpus is built from the fixture mails in lbsup/intake/tests/fixtures/eml (Outlook, Gmail,
Apple replies, forwards, ISO-8859-1/Shift_JIS, HTML-only, attachments, auto-replies, bounces…)
with new Message-IDs, senders and dates; about 30 % are replies that thread to an earlier
ticket by its subject tag, 8 % are auto-replies/bounces/list mail and 3 % are re-deliveries.
"""

import argparse
import email
import email.header
import email.policy
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from email.utils import format_datetime, formataddr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Maria", "Tom", "Lena", "Peter", "Nina", "Ola", "Kim", "Dan", "Åsa", "François", "Taro", "Priya",
         "José", "Chloé", "Ahmed", "Zoë", "Liam", "Noah", "Emma", "Sofia", "Yuki", "Björn", "Ines", "Omar"]
LAST = ["Gonzalez", "Baker", "Fischer", "Holm", "Park", "Berg", "Lee", "Wright", "Nygård", "Müller", "Yamada",
        "Sharma", "García", "Dubois", "Hassan", "Novak", "Smith", "Jensen", "Rossi", "Tanaka", "Olsen", "Silva"]
DOMAINS = ["gmail.example", "outlook.example", "icloud.example", "mail.example", "post.example", "corp.example",
           "northwind.example", "web.example"]
REPLY_SHARE, AUTO_SHARE, REDELIVERY_SHARE = 0.30, 0.08, 0.03


def make_corpus(directory, count, seed=20251127):
    from lbsup.intake.mailparse import parse_message
    from lbsup.intake.tests.eml_fixtures import all_fixture_names, load_eml

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    templates = {name: load_eml(name) for name in all_fixture_names()
                 if not name.endswith(".gz") and name != "same_id_2.eml"}
    automatic = [raw for raw in templates.values() if parse_message(raw).auto]
    personal = [raw for raw in templates.values() if not parse_message(raw).auto]
    senders = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"customer{n}@{rng.choice(DOMAINS)}") for n in range(400)]
    originals = []  # (ticket number, sender, subject, message id) in the order tickets will be created
    written, expected = [], Counter()
    start = 1_740_000_000  # 2025-02-19: dates move forward a minute or so per message
    for index in range(count):
        date = format_datetime(_utc(start + index * 60 + rng.randint(0, 59)))
        roll = rng.random()
        if roll < REDELIVERY_SHARE and written:
            raw, kind = rng.choice(written), "redelivered"
            raw = b"X-Redelivered: yes\r\n" + raw  # other bytes, same Message-ID
        elif roll < REDELIVERY_SHARE + AUTO_SHARE:
            raw, kind = _rewrite(rng.choice(automatic), message_id=f"<auto-{index}@bounce.example>", date=date), "filtered"
        elif roll < REDELIVERY_SHARE + AUTO_SHARE + REPLY_SHARE and originals:
            number, sender, subject, parent_id = rng.choice(originals)
            raw = _rewrite(rng.choice(personal), message_id=f"<r{index}.{seed}@{sender[1].split('@')[1]}>",
                           sender=sender, subject=f"Re: [#{number}] {subject}", date=date, in_reply_to=parent_id)
            kind = "threaded"
        else:
            sender = rng.choice(senders)
            template = rng.choice(personal)
            subject = str(email.message_from_bytes(template, policy=email.policy.default)["Subject"] or "Question")
            message_id = f"<o{index}.{seed}@{sender[1].split('@')[1]}>"
            raw = _rewrite(template, message_id=message_id, sender=sender, subject=subject, date=date)
            originals.append((len(originals) + 1, sender, subject.replace("\n", " ")[:120], message_id))
            kind = "new ticket"
        expected[kind] += 1
        written.append(raw)
        (directory / f"{index:06d}.eml").write_bytes(raw)
    (directory / "manifest.json").write_text(json.dumps({"messages": count, "expected": expected}, indent=1))
    print(f"wrote {count} messages to {directory}: {dict(expected)}")


def _utc(seconds):
    import datetime

    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def _rewrite(template, *, message_id, date, sender=None, subject=None, in_reply_to=None):
    """The template with new identity headers; body, MIME structure and charsets untouched."""
    message = email.message_from_bytes(template, policy=email.policy.compat32)
    replace = {"Message-ID": message_id, "Date": date}
    if sender:
        replace["From"] = formataddr(sender, charset="utf-8")
    if subject is not None:
        replace["Subject"] = email.header.Header(subject, "utf-8").encode() if not subject.isascii() else subject
    if in_reply_to:
        replace["In-Reply-To"] = in_reply_to
        replace["References"] = in_reply_to
    for name, value in replace.items():
        del message[name]
        message[name] = value
    return message.as_bytes()


def run(workspace_slug, eml_dir, limit, single):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from lbsup.audit.actors import SYSTEM
    from lbsup.intake.actions import INGEST_BATCH, do_ingest, do_ingest_batch
    from lbsup.tickets.models import Message, Ticket
    from lbsup.workspaces.actions import do_create_workspace
    from lbsup.workspaces.models import Workspace

    call_command("migrate", verbosity=0)
    import lbsup.triage.tasks  # noqa: F401 - loads the models once, as a running worker has (not timed)
    manifest_path = eml_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    workspace = Workspace.objects.filter(slug=workspace_slug).first() or do_create_workspace(
        SYSTEM, slug=workspace_slug, name=f"Benchmark {workspace_slug}",
        support_email=manifest.get("support_address") or f"help@{workspace_slug}.example")
    if Ticket.objects.filter(workspace=workspace).exists():
        sys.exit(f"{workspace_slug} already has tickets; use a new --workspace slug (the corpus's [#N] tags start at 1)")
    files = sorted(eml_dir.glob("*.eml"))[:limit] if limit else sorted(eml_dir.glob("*.eml"))
    corpus = [(path.name, path.read_bytes()) for path in files]
    states, timings = Counter(), []  # timings: seconds per message (per batch: the batch's time / its size)
    size = 1 if single else INGEST_BATCH
    started, cpu_started = time.perf_counter(), time.process_time()
    for first in range(0, len(corpus), size):
        chunk = corpus[first:first + size]
        before = time.perf_counter()
        if single:
            name, raw = chunk[0]
            states[do_ingest(workspace, raw, channel="eml", source={"file": name}).state] += 1
        else:
            results = do_ingest_batch(workspace, [raw for _, raw in chunk], channel="eml",
                                      sources=[{"file": name} for name, _ in chunk])
            states.update(item.raw_message.state for item in results)
        timings += [(time.perf_counter() - before) / len(chunk)] * len(chunk)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    timings.sort()
    reasons = Counter(reason.split(" ", 2)[0] + " " + reason.split(" ", 2)[1] for reason in Message.objects.filter(
        workspace=workspace, direction="inbound").exclude(thread_reason__startswith="new ticket").values_list(
        "thread_reason", flat=True))
    threaded = sum(reasons.values())
    tickets = Ticket.objects.filter(workspace=workspace).count()
    path = "do_ingest per message" if single else f"do_ingest_batch, {size} messages a batch"
    print(f"path: {path}")
    print(f"database: {connection.vendor}; {len(corpus)} messages, {sum(len(raw) for _, raw in corpus) / 1e6:.1f} MB")
    print(f"states: {dict(states)}; tickets created: {tickets}; replies threaded: {threaded} ({dict(reasons)})")
    if "expected" in manifest and not limit:
        print(f"corpus expected: {manifest['expected']}")
    if "thread_of" in manifest and not limit:  # a corpus of bench/threading_corpus.py
        from threading_corpus import report

        report(workspace, manifest)
    print(f"per message{' (batch time / batch size)' if not single else ''}: "
          f"p50 {statistics.median(timings) * 1000:.2f} ms; p95 {timings[int(len(timings) * 0.95)] * 1000:.2f} ms; "
          f"max {timings[-1] * 1000:.1f} ms")
    # CPU time is steadier than wall time on a shared machine; waits on disk or the database are not in it.
    print(f"ingest rate: {len(corpus) / elapsed:,.0f} messages/s ({elapsed:.1f} s; CPU in this process {cpu:.1f} s, "
          f"{cpu / len(corpus) * 1000:.1f} ms per message)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-corpus", type=Path, metavar="DIR", help="write a generated corpus to DIR and stop")
    parser.add_argument("--workspace", default="bench-ingest")
    parser.add_argument("--eml-dir", type=Path)
    parser.add_argument("--single", action="store_true", help="time do_ingest per file instead of do_ingest_batch")
    parser.add_argument("-n", type=int, default=0, help="corpus size to write, or how many files to ingest (0: all)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")
    if not os.environ.get("DATABASE_URL"):
        os.environ["LBSUP_VAR_DIR"] = tempfile.mkdtemp(prefix="lbsup-bench-ingest-")
    if args.make_corpus:
        import django

        django.setup()
        make_corpus(args.make_corpus, args.n or 2000)
        return
    if not args.eml_dir:
        parser.error("--eml-dir is required (or --make-corpus DIR)")
    run(args.workspace, args.eml_dir, args.n, args.single)


if __name__ == "__main__":
    main()
