"""Private PostgreSQL and Redis servers that a test (or a benchmark) may stop, kill and restart.

The shared servers on 127.0.0.1:5432 and :6379 serve every test run on the machine, so a fault
is never injected there: these run from the Debian binaries on a free port with their data in
a temporary directory, and are removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from lbsup.testing.mailservers import LOCALHOST, find_free_port, wait_for_port

POSTGRES_OS_USER = "postgres"  # initdb and postgres refuse to run as root


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    candidates = [d for d in Path("/usr/lib/postgresql").glob("*/bin") if (d / "initdb").exists() and (d / "pg_ctl").exists()]
    return max(candidates, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0, default=None)


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<free port>, trust authentication, user postgres."""

    def __init__(self):
        self.bin_dir = postgres_bin_dir()
        if self.bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
        self.port = find_free_port()
        self.root = Path(tempfile.mkdtemp(prefix="lbsup-postgres-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, POSTGRES_OS_USER)
        self.data_dir = self.root / "data"
        self._initialized = False

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{LOCALHOST}:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", POSTGRES_OS_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=60, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stdout}{result.stderr}{self._log_tail()}")
        return result

    def start(self) -> "PrivatePostgres":
        if not self._initialized:
            self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--no-sync")
            self._initialized = True
        # fsync off: the data is thrown away, and a restart here is a clean stop, not a power cut.
        options = f"-p {self.port} -k {self.root} -c listen_addresses={LOCALHOST} -c fsync=off"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "30", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """mode fast: roll back and disconnect every client, as a restart by the operator does."""
        if self.data_dir.joinpath("postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        self._run(str(self.bin_dir / "createdb"), "-h", LOCALHOST, "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PrivatePostgres":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.destroy()

    def _log_tail(self) -> str:
        log = self.root / "server.log"
        return f"\n--- server.log\n{log.read_text(errors='replace')[-3000:]}" if log.exists() else ""


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class PrivateRedis:
    """A redis-server on 127.0.0.1:<free port> without persistence: killing it loses whatever was
    queued in it, the worst case for the job queue."""

    def __init__(self):
        if not os.access(REDIS_SERVER, os.X_OK):
            raise RuntimeError(f"redis-server not found at {REDIS_SERVER}")
        self.port = find_free_port()
        self.root = Path(tempfile.mkdtemp(prefix="lbsup-redis-"))
        self._process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{LOCALHOST}:{self.port}/{db}"

    def start(self) -> "PrivateRedis":
        self._process = subprocess.Popen(
            [REDIS_SERVER, "--bind", LOCALHOST, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.root)],
            stdout=open(self.root / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        if not wait_for_port(self.port, timeout=15):
            self.kill()
            raise RuntimeError(f"redis-server did not listen on {self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL: gone at once, nothing saved."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PrivateRedis":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.destroy()
