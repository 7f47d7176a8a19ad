"""Real mail servers for tests: an in-process SMTP sink and a throw-away Dovecot IMAP server.

Nothing here is a mock: the SMTP sink is an aiosmtpd server listening on a real
socket, and the IMAP server is the Debian ``dovecot`` binary running with a
private configuration in a temporary directory.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller

LOCALHOST = "127.0.0.1"


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOCALHOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class ReceivedEnvelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class _SinkHandler:
    def __init__(self, sink: "SmtpSink"):
        self._sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        if self._sink.delay:
            await asyncio.sleep(self._sink.delay)
        return self._sink._accept(envelope)


class SmtpSink:
    """Collects every message delivered to it; can be told to fail temporarily.

    Usage::

        with SmtpSink() as sink:
            smtplib.SMTP(sink.host, sink.port).sendmail(...)
            sink.messages[0].raw
    """

    def __init__(self, host: str = LOCALHOST, port: int | None = None, delay: float = 0.0):
        self.host = host
        self.port = port or find_free_port()
        self.delay = delay  # seconds before answering DATA: a slow server keeps sends in flight
        self._lock = threading.Lock()
        self._received: list[ReceivedEnvelope] = []
        self._failures_left = 0
        self._failure_reply = ""
        self._controller: Controller | None = None

    # lifecycle -----------------------------------------------------------
    def start(self) -> "SmtpSink":
        if self._controller is None:
            # data_size_limit=None: tests send multi-megabyte bodies on purpose.
            self._controller = Controller(
                _SinkHandler(self), hostname=self.host, port=self.port, data_size_limit=None
            )
            self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: later connection attempts are refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # behaviour -----------------------------------------------------------
    def fail_next(self, count: int = 1, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answer the DATA of the next ``count`` messages with ``code`` (temporary by default)."""
        with self._lock:
            self._failures_left = count
            self._failure_reply = f"{code} {text}"

    def _accept(self, envelope) -> str:
        with self._lock:
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_reply
            raw = envelope.original_content or envelope.content
            if isinstance(raw, str):
                raw = raw.encode("utf-8", "surrogateescape")
            self._received.append(
                ReceivedEnvelope(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=bytes(raw),
                )
            )
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedEnvelope]:
        with self._lock:
            return list(self._received)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedEnvelope]:
        """Block until ``count`` messages arrived (or timeout) and return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.messages
            if len(received) >= count:
                return received
            time.sleep(0.02)
        return self.messages


# --------------------------------------------------------------------------- IMAP


class DovecotMissing(RuntimeError):
    """The dovecot binary is not installed (``apt-get install dovecot-imapd``)."""


DOVECOT_BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM_BINARY = shutil.which("doveadm") or "/usr/bin/doveadm"


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT_BINARY) and os.access(DOVECOT_BINARY, os.X_OK)


def _dovecot_accounts() -> tuple[str, str, str, int, int]:
    """(internal user, login user, mail user, mail uid, mail gid) that can run here.

    As root, dovecot refuses uid 0 for mail access, so mail belongs to ``nobody``
    and the Debian package's own ``dovecot``/``dovenull`` users run the services.
    Unprivileged, everything runs as the current user.
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_name, me.pw_uid, me.pw_gid

    def existing(name: str, fallback: str) -> str:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            return fallback

    mail_user = pwd.getpwnam("nobody")
    return (
        existing("dovecot", "nobody"),
        existing("dovenull", "nobody"),
        "nobody",
        mail_user.pw_uid,
        mail_user.pw_gid,
    )


_CONFIG_TEMPLATE = """\
# Throw-away dovecot 2.3 configuration written by lbsup.testing.mailservers.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
mail_privileged_group =
login_trusted_networks = 127.0.0.0/8
shutdown_clients = yes

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}

namespace inbox {{
  inbox = yes
  separator = /
}}

service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


class ImapServer:
    """A real dovecot IMAP server on 127.0.0.1, private to this test process.

    One user (``username``/``password``) with a maildir under a temp directory.
    """

    def __init__(self, username: str = "support@lbsup.example", password: str = "test-password"):
        if not dovecot_available():
            raise DovecotMissing(f"dovecot not found at {DOVECOT_BINARY}; apt-get install dovecot-imapd")
        self.host = LOCALHOST
        self.port = find_free_port()
        self.username = username
        self.password = password
        self._root: Path | None = None
        self._process: subprocess.Popen | None = None

    # paths ---------------------------------------------------------------
    @property
    def root(self) -> Path:
        if self._root is None:
            raise RuntimeError("ImapServer not started")
        return self._root

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    # lifecycle -----------------------------------------------------------
    def start(self) -> "ImapServer":
        if self._process is not None:
            return self
        if self._root is None:
            self._prepare_root()
        self._process = subprocess.Popen(
            [DOVECOT_BINARY, "-F", "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "dovecot.stderr", "ab"),
            start_new_session=True,
        )
        if not wait_for_port(self.port, timeout=15):
            self._terminate()
            raise RuntimeError(f"dovecot did not start listening on {self.port}:\n{self._diagnostics()}")
        return self

    def stop(self) -> None:
        self._terminate()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> "ImapServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _prepare_root(self) -> None:
        internal_user, login_user, _mail_user, mail_uid, mail_gid = _dovecot_accounts()
        # Not pytest's tmp_path: that is mode 0700 under root, and dovecot's
        # unprivileged processes must be able to reach the maildir.
        root = Path(tempfile.mkdtemp(prefix="lbsup-dovecot-"))
        root.chmod(0o755)
        for sub in ("run", "state", "mail", "home"):
            (root / sub).mkdir()
        for sub in ("mail", "home"):
            os.chown(root / sub, mail_uid, mail_gid)
        (root / "passwd").write_text(f"{self.username}:{{PLAIN}}{self.password}::::::\n")
        (root / "passwd").chmod(0o644)
        (root / "dovecot.conf").write_text(
            _CONFIG_TEMPLATE.format(
                root=root,
                host=self.host,
                port=self.port,
                internal_user=internal_user,
                login_user=login_user,
                mail_uid=mail_uid,
                mail_gid=mail_gid,
            )
        )
        self._root = root

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            # dovecot -F forwards SIGTERM to its children; kill the group if it lingers.
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        # Wait for the port to close so a restart can bind it again.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and wait_for_port(self.port, timeout=0.05):
            time.sleep(0.05)

    def _diagnostics(self) -> str:
        parts = []
        for name in ("dovecot.log", "dovecot.stderr"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    # operations ----------------------------------------------------------
    def connect(self):
        """A logged-in imapclient connection (caller closes it)."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.username, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple = ()) -> int | None:
        """Store ``raw`` in ``folder`` (created if missing); returns the new UID when known."""
        client = self.connect()
        try:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags)
            return _uid_from_appenduid(response)
        finally:
            client.logout()

    def uidvalidity(self, folder: str = "INBOX") -> int:
        client = self.connect()
        try:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])
        finally:
            client.logout()

    def reset_uidvalidity(self, folder: str = "INBOX") -> int:
        """Give ``folder`` a new UIDVALIDITY, as a server rebuilding its index would; returns it."""
        new_value = max(self.uidvalidity(folder) + 1, int(time.time()))
        self.doveadm("mailbox", "update", "-u", self.username, "--uid-validity", str(new_value), folder)
        return new_value

    def drop_connections(self) -> None:
        """Disconnect every open IMAP session of the test user, like a server-side hang-up."""
        try:
            self.doveadm("kick", self.username)
        except RuntimeError:
            # Without anvil's bookkeeping kick can miss sessions; a restart never does.
            self._terminate()
            self.start()

    def doveadm(self, *args: str) -> str:
        result = subprocess.run(
            [DOVEADM_BINARY, "-c", str(self.config_path), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout


def _uid_from_appenduid(response) -> int | None:
    """Parse ``[APPENDUID <validity> <uid>] ...`` from an APPEND response."""
    if isinstance(response, bytes):
        response = response.decode("ascii", "replace")
    text = str(response)
    marker = "APPENDUID"
    if marker not in text:
        return None
    try:
        _validity, uid = text.split(marker, 1)[1].split("]", 1)[0].split()
        return int(uid)
    except ValueError:
        return None
