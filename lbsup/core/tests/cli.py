"""Run the installed `lbsup` command in a subprocess with a controlled environment."""

import os
import subprocess
import sys
from pathlib import Path

LBSUP = str(Path(sys.executable).parent / "lbsup")


def run_lbsup(*args, env=None, timeout=120, unset=()):
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(env or {})
    return subprocess.run([LBSUP, *args], capture_output=True, text=True, env=environment, timeout=timeout)
