"""Run the installed `lbsup` command in a subprocess with a controlled environment."""

import os
import subprocess
import sys
from pathlib import Path

LBSUP = str(Path(sys.executable).parent / "lbsup")
# Set by the browser fixtures while a test session drives chromium; never meant for a real process.
TEST_HARNESS_VARIABLES = ("DJANGO_ALLOW_ASYNC_UNSAFE",)


def lbsup_env(env=None, unset=()):
    environment = {k: v for k, v in os.environ.items() if k not in (*unset, *TEST_HARNESS_VARIABLES)}
    environment.update(env or {})
    return environment


def run_lbsup(*args, env=None, timeout=120, unset=()):
    return subprocess.run([LBSUP, *args], capture_output=True, text=True, env=lbsup_env(env, unset), timeout=timeout)
