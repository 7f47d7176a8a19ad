"""Run adversarial cases in a child process that names each case before it starts it, so a test
that hangs (catastrophic backtracking, a quadratic scan) fails naming its case instead of timing out."""

import subprocess
import sys


def run_cases_without_hanging(child_source, timeout):
    """child_source: Python that prints each case's name, runs it, and prints "done" at the end."""
    try:
        run = subprocess.run([sys.executable, "-c", child_source], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as hung:
        started = (hung.stdout or b"").decode() if isinstance(hung.stdout, bytes) else (hung.stdout or "")
        raise AssertionError(f"hung on: {started.strip().splitlines()[-1:]}") from None
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "done"
