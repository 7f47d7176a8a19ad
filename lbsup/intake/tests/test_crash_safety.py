"""Kill the mail poller with SIGKILL at random points, over and over, then let it finish:
every message must be stored exactly once. Runs real processes on a real database file."""

import json
import os
import random
import signal
import subprocess
import time

import pytest

from lbsup.core.tests.cli import LBSUP, lbsup_env, run_lbsup

from .test_mail_channels import numbered_mail

MESSAGES = 40
KILLS = 8


@pytest.fixture
def fresh_install(tmp_path, imap_server):
    env = {"LBSUP_VAR_DIR": str(tmp_path)}
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the PostgreSQL pass covers the same code; this test owns a throw-away SQLite file")
    assert run_lbsup("migrate", "--noinput", env=env).returncode == 0
    setup = (
        "from lbsup.audit.actors import SYSTEM\n"
        "from lbsup.workspaces.actions import do_create_workspace\n"
        "from lbsup.intake.models import Mailbox\n"
        "w = do_create_workspace(SYSTEM, slug='crash', name='Crash', support_email='hello@crash.example')\n"
        f"Mailbox.objects.create(workspace=w, host='{imap_server.host}', port={imap_server.port}, use_ssl=False,"
        f" username='{imap_server.username}', password='{imap_server.password}')\n"
    )
    result = run_lbsup("shell", "--no-imports", "-c", setup, env=env)
    assert result.returncode == 0, result.stderr
    return env


def count_messages(env):
    script = ("import json; from collections import Counter; from lbsup.tickets.models import Message; "
              "print(json.dumps(Counter(Message.objects.filter(workspace__slug='crash')"
              ".values_list('message_id', flat=True))))")
    return json.loads(run_lbsup("shell", "--no-imports", "-c", script, env=env).stdout.strip().splitlines()[-1])


def test_it_loses_and_duplicates_nothing_when_killed_mid_ingest(fresh_install, imap_server):
    env = lbsup_env(fresh_install)
    for n in range(MESSAGES):
        imap_server.append(numbered_mail(n, to="hello@crash.example"))
    rng = random.Random(20261127)
    started = time.monotonic()
    assert run_lbsup("check", env=fresh_install).returncode == 0
    startup = time.monotonic() - started  # how long this machine, as loaded now, takes to start lbsup
    killed_while_running = 0
    for _ in range(KILLS):
        poller = subprocess.Popen([LBSUP, "mail", "poll", "--workspace", "crash"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(startup * 0.8 + rng.uniform(0, 1.5))  # kill somewhere inside the work
        if poller.poll() is None:
            killed_while_running += 1
        poller.send_signal(signal.SIGKILL)
        poller.wait()
    final = run_lbsup("mail", "poll", "--workspace", "crash", env=fresh_install)
    assert final.returncode == 0, final.stdout + final.stderr
    assert run_lbsup("mail", "resume", "--workspace", "crash", env=fresh_install).returncode == 0
    counts = count_messages(fresh_install)
    assert sorted(counts) == sorted(f"q{n}@mailbox.example" for n in range(MESSAGES))
    assert set(counts.values()) == {1}
    assert killed_while_running >= 1
    assert run_lbsup("mail", "reconcile", "--workspace", "crash", env=fresh_install).returncode == 0
