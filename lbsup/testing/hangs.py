"""Run adversarial cases in a child process that names each case before it starts it, so a test
that hangs (catastrophic backtracking, a quadratic scan) fails naming its case instead of timing out."""

import queue
import subprocess
import sys
import threading
import time


def run_cases_without_hanging(child_source, timeout, *, per_case=None):
    """child_source: Python that prints each case's name, runs it, and prints "done" at the end.

    `timeout` bounds the whole run; `per_case`, if given, bounds the time between two names, so
    one slow case among hundreds of quick ones cannot hide inside the total."""
    child = subprocess.Popen([sys.executable, "-c", child_source], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    names, errors = queue.Queue(), []
    threading.Thread(target=lambda: [names.put(line.rstrip("\n")) for line in child.stdout] + [names.put(None)],
                     daemon=True).start()
    reading_errors = threading.Thread(target=lambda: errors.append(child.stderr.read()), daemon=True)
    reading_errors.start()
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        wait = deadline - time.monotonic()
        try:
            line = names.get(timeout=max(0.0, min(wait, per_case or wait)))
        except queue.Empty:
            child.kill()
            child.wait()
            raise AssertionError(f"hung on: {seen[-1:]}") from None
        if line is None:
            break
        seen.append(line)
    child.wait()
    reading_errors.join()
    assert child.returncode == 0, "".join(errors)[-2000:]
    assert seen and seen[-1] == "done", seen[-3:]
