"""django-helpdesk's own mail import, `manage.py get_email` over a local-directory mailbox, timed on
the corpus that bench/ingest.py writes (issue #5 compares the two rates).

    python3 bench/helpdesk/project.py                      # once: the throw-away project in /tmp/helpdesk-bench
    /tmp/helpdesk-bench/venv/bin/python bench/helpdesk/ingest.py --eml-dir /tmp/corpus
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NEW_DB  (the same command, on a new database)

Copies the corpus's .eml files, in order, into a fresh mailbox folder and points one queue at it
(email_box_type "local", the queue's address set to the corpus's usual To address), then runs
get_email until the folder is empty. get_email stops at the first file it cannot read and leaves it
(and everything after it) in the folder, logging the error; each time that happens the file is set
aside, as an operator would, and get_email runs again. The figures count every run. Per-message times
are those of helpdesk.email.extract_email_metadata, the function get_email calls for each file.
Without DATABASE_URL a new SQLite file in the project folder is used. Prints figures, asserts nothing."""

import argparse
import logging
import os
import re
import shutil
import statistics
import sys
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

QUEUE_ADDRESS = "help@brightsmile.example"  # the To address of most of the corpus: not copied as a CC


class ErrorLog(logging.Handler):
    """Keeps what get_email logs at ERROR, which is where it reports a run it gave up."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.errors = []

    def emit(self, record):
        error = record.exc_info[1] if record.exc_info else None
        self.errors.append(f"{type(error).__name__}: {error}" if error else record.getMessage())


def fresh_database(project):
    if os.environ.get("DATABASE_URL"):
        return
    database = project / "ingest.sqlite3"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)
    os.environ["HDBENCH_SQLITE"] = str(database)


def fill_mailbox(eml_dir, mailbox):
    shutil.rmtree(mailbox, ignore_errors=True)
    mailbox.mkdir(parents=True)
    files = sorted(eml_dir.glob("*.eml"))
    for path in files:  # delivered one by one, in the corpus's order, like a local delivery agent
        shutil.copyfile(path, mailbox / path.name)
    return files


def time_extraction(timings):
    import helpdesk.email

    extract = helpdesk.email.extract_email_metadata

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return extract(*args, **kwargs)
        finally:
            timings.append(time.perf_counter() - started)

    helpdesk.email.extract_email_metadata = timed


def run(eml_dir, project):
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket, TicketCC

    call_command("migrate", verbosity=0)
    if Ticket.objects.exists():
        sys.exit("the database already has tickets: use a new one")
    mailbox, set_aside = project / "mailbox", project / "set-aside"
    files = fill_mailbox(eml_dir, mailbox)
    shutil.rmtree(set_aside, ignore_errors=True)
    set_aside.mkdir()
    queue = Queue.objects.create(
        title="Bench", slug="bench", email_address=QUEUE_ADDRESS, allow_email_submission=True,
        email_box_type="local", email_box_local_dir=str(mailbox), logging_type="error")
    errors = ErrorLog()
    logging.getLogger(f"django.helpdesk.queue.{queue.slug}").addHandler(errors)
    timings, failures = [], Counter()
    time_extraction(timings)
    runs = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        errors.errors.clear()
        call_command("get_email")
        runs += 1
        left = os.listdir(mailbox)  # the order get_email reads in: the first file left is the one it stopped at
        if not left or not errors.errors:
            break
        shutil.move(mailbox / left[0], set_aside / left[0])
        failures[re.sub(r"\d+", "N", errors.errors[-1])] += 1  # one line per kind of error
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    timings.sort()
    imported = len(timings)
    followups = FollowUp.objects.filter(ticket__queue=queue).count()
    tickets = Ticket.objects.filter(queue=queue).count()
    print(f"django-helpdesk {version('django-helpdesk')}, "
          f"Django {django.get_version()}, database: {connection.vendor}")
    print(f"{len(files)} files; get_email runs: {runs}; imported: {imported}; set aside after stopping get_email: "
          f"{sum(failures.values())}; left in the mailbox: {len(os.listdir(mailbox))}")
    for reason, count in failures.most_common():
        print(f"  {count} × {reason}")
    print(f"tickets: {tickets}; follow-ups: {followups} ({followups - tickets} added to an existing ticket); "
          f"attachments: {FollowUpAttachment.objects.count()}; CCs: {TicketCC.objects.count()}; "
          f"notification mails built: {len(getattr(mail, 'outbox', []))}")
    print(f"p50 {statistics.median(timings) * 1000:.2f} ms; p95 {timings[int(imported * 0.95)] * 1000:.2f} ms; "
          f"max {timings[-1] * 1000:.1f} ms (per imported message)")
    print(f"ingest rate: {imported / elapsed:,.0f} messages/s ({elapsed:.1f} s for {imported} messages; "
          f"CPU in this process {cpu:.1f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eml-dir", type=Path, required=True, help="the corpus from bench/ingest.py --make-corpus")
    parser.add_argument("--project", type=Path, default=Path("/tmp/helpdesk-bench"),
                        help="the folder bench/helpdesk/project.py wrote")
    args = parser.parse_args()
    project = args.project.resolve()
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
    fresh_database(project)
    run(args.eml_dir.resolve(), project)


if __name__ == "__main__":
    main()
