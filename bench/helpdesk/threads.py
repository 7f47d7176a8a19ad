"""django-helpdesk on the threading corpus of bench/threading_corpus.py (issue #18): the same import as
bench/helpdesk/ingest.py (its rate printed the same way), then the same threading figures that
bench/ingest.py prints for lbsup, counted from django-helpdesk's database.

    python3 bench/helpdesk/project.py                                   # once
    .venv/bin/python bench/threading_corpus.py /tmp/threads -n 2000     # the corpus
    /tmp/helpdesk-bench/venv/bin/python bench/helpdesk/threads.py --eml-dir /tmp/threads
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NEW_DB  (the same command, on a new database)

A reply counts as on the right ticket when its follow-up is on the ticket of its conversation's first
mail and that ticket holds no other conversation (the rule of threading_corpus.score). The queue's
address is the corpus's support address, so it is not subscribed as a CC. Prints figures, asserts nothing."""

import argparse
import json
import os
import sys
from pathlib import Path

import ingest  # bench/helpdesk/ingest.py, next to this file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import threading_corpus  # noqa: E402  bench/threading_corpus.py: stdlib only, so this venv can import it


def report(manifest):
    from helpdesk.models import FollowUp, Ticket

    stored = [((message_id or "").strip().strip("<>"), ticket) for message_id, ticket in
              FollowUp.objects.exclude(message_id=None).values_list("message_id", "ticket_id")]
    threading_corpus.score(manifest, stored, Ticket.objects.count(), Ticket.objects.exclude(merged_to=None).count())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eml-dir", type=Path, required=True, help="the corpus from bench/threading_corpus.py")
    parser.add_argument("--project", type=Path, default=Path("/tmp/helpdesk-bench"),
                        help="the folder bench/helpdesk/project.py wrote")
    args = parser.parse_args()
    eml_dir, project = args.eml_dir.resolve(), args.project.resolve()
    manifest = json.loads((eml_dir / "manifest.json").read_text())
    if "thread_of" not in manifest:
        sys.exit(f"{eml_dir} is not a corpus of bench/threading_corpus.py (no thread_of in its manifest)")
    ingest.QUEUE_ADDRESS = manifest["support_address"]
    sys.path.insert(0, str(project))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdbench.settings")
    ingest.fresh_database(project)
    ingest.run(eml_dir, project)
    report(manifest)


if __name__ == "__main__":
    main()
