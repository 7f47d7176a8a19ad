"""Longer schemathesis run against the API (in-process WSGI, a throw-away SQLite database).

    .venv/bin/python bench/api_fuzz.py [--examples 200]

Prints operations covered, requests sent, status codes, server errors and check failures."""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=200, help="examples per operation")
    args = parser.parse_args()
    os.environ["LBSUP_VAR_DIR"] = tempfile.mkdtemp(prefix="lbsup-fuzz-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["LBSUP_HUEY_IMMEDIATE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    settings.LBSUP_API_RATE_PER_MINUTE = 10**9
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    from lbsup.api.actions import do_create_token
    from lbsup.api.fuzz import run
    from lbsup.playbooks.actions import do_approve_playbook, do_upload_playbook
    from lbsup.testing.personas import make_personas

    personas = make_personas()
    text = (Path(__file__).resolve().parents[1] / "lbsup/demo/playbooks/bright-smile.yaml").read_text()
    do_approve_playbook(personas.lena, do_upload_playbook(personas.lena, personas.dental, text))
    token = do_create_token(personas.lena, personas.dental, name="fuzz", role="lead").plaintext
    started = time.perf_counter()
    report = run(get_wsgi_application(), token=token, slug="bright-smile", max_examples=args.examples)
    seconds = time.perf_counter() - started
    print(f"schemathesis examples per operation: {args.examples}")
    print(f"operations covered: {report.operations}")
    print(f"requests sent: {report.calls} in {seconds:.0f} s ({report.calls / seconds:.0f}/s)")
    print("status codes: " + ", ".join(f"{s}: {n}" for s, n in sorted(report.statuses.items())))
    print(f"server errors (5xx): {report.server_errors}")
    print(f"check failures: {len(report.failures)}")
    for operation, message in report.failures[:10]:
        print(f"--- {operation}\n{message[:1500]}")
    return 1 if report.failures or report.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
