"""The people and systems bench/load.py simulates: representatives working the queue over HTTP,
and customers' mail arriving by SMTP and through the API. No Django here: plain HTTP and SMTP."""

import random
import smtplib
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

# Answers a person expects from the server and handles: not errors.
EXPECTED = {
    409: "conflict",  # the draft was decided or superseded a moment ago
    422: "blocked",  # a guardrail stopped the reply (a person would edit it)
    429: "rate-limited",
}


class Stats:
    """Latency per request kind and outcome counts, shared by every thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self.latencies = defaultdict(list)
        self.outcomes = defaultdict(lambda: defaultdict(int))
        self.error_samples = []

    def record(self, kind, seconds, outcome, detail=None):
        with self._lock:
            self.latencies[kind].append(seconds)
            self.outcomes[kind][outcome] += 1
            if detail and len(self.error_samples) < 5:
                self.error_samples.append(f"{kind}: {detail}")

    def rows(self):
        for kind in sorted(self.latencies):
            values = sorted(self.latencies[kind])
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            yield kind, len(values), statistics.median(values) * 1000, p95 * 1000, dict(self.outcomes[kind])

    def total(self, kinds=None):
        return sum(len(v) for k, v in self.latencies.items() if kinds is None or k in kinds)

    def errors(self):
        return sum(n for outcomes in self.outcomes.values() for outcome, n in outcomes.items() if outcome == "error")


@dataclass(frozen=True)
class RepAccount:
    username: str
    password: str
    workspace: str
    token: str
    approves_in_desk: bool  # else through the API


class Budget:
    """A bounded number of requests over all threads, and a wall-clock end once started."""

    def __init__(self, requests_allowed, seconds):
        self._left, self.seconds = requests_allowed, seconds
        self._lock = threading.Lock()
        self.ends_at = float("inf")
        self.started = threading.Event()

    def start(self):
        self.ends_at = time.monotonic() + self.seconds
        self.started.set()

    def take(self):
        with self._lock:
            if self._left <= 0 or time.monotonic() >= self.ends_at:
                return False
            self._left -= 1
            return True

    @property
    def over(self):
        return self._left <= 0 or time.monotonic() >= self.ends_at


def browser_like_session():
    """Keep-alive, and like a browser, one retry of a GET whose reused connection the server had
    just closed (gunicorn drops idle keep-alive connections after 2 s; the request then meets a reset)."""
    session = requests.Session()
    retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods={"GET"}, raise_on_status=False)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


class Representative(threading.Thread):
    """Logs in to the desk (before the clock starts), then loops: the queue (API and desk page),
    one of the newest tickets (API and desk page), its drafts, and approves the open draft — half
    of the representatives through the desk form, the others through the API with a person token."""

    def __init__(self, base_url, account, stats, budget, seed, think=0.05):
        super().__init__(daemon=True)
        self.base, self.account, self.stats, self.budget = base_url, account, stats, budget
        self.rng, self.think = random.Random(seed), think
        self.approved_drafts = set()
        self.logged_in = threading.Event()
        self.api, self.desk = browser_like_session(), browser_like_session()
        self.api.headers["Authorization"] = f"Bearer {account.token}"

    def run(self):
        ok = self.log_in()
        self.logged_in.set()
        self.budget.started.wait()
        if not ok:
            return
        slug = self.account.workspace
        views = ("new", "open")
        while not self.budget.over:
            status = views[self.rng.randrange(len(views))]
            queue = self.call("api: queue", self.api.get, f"/api/w/{slug}/tickets", params={"status": status, "limit": 50})
            self.call("desk: queue page", self.desk.get, f"/w/{slug}/")
            tickets = queue.json()["results"] if queue is not None and queue.status_code == 200 else []
            if not tickets:
                time.sleep(0.5)  # nothing new yet: mail is still arriving
                continue
            number = self.rng.choice(tickets[:25])["number"]  # from the top of the queue
            self.call("api: ticket", self.api.get, f"/api/w/{slug}/tickets/{number}")
            self.call("desk: ticket page", self.desk.get, f"/w/{slug}/tickets/{number}/")
            drafts = self.call("api: drafts", self.api.get, f"/api/w/{slug}/tickets/{number}/drafts")
            open_drafts = [d for d in (drafts.json() if drafts is not None and drafts.status_code == 200 else [])
                           if d["state"] in ("proposed", "saved")]
            if open_drafts:
                self.approve(slug, number, open_drafts[0])
            time.sleep(self.think)

    def log_in(self):
        self.desk.get(self.base + "/login/", timeout=60)
        response = self.call("desk: log in", self.desk.post, "/login/", allow_redirects=False, budgeted=False, data={
            "username": self.account.username, "password": self.account.password,
            "csrfmiddlewaretoken": self.desk.cookies.get("csrftoken", "")})
        return response is not None and response.status_code == 302

    def approve(self, slug, number, draft):
        """Approve the draft as it stands; when a guardrail blocks it, approve again with a reason,
        as a representative who checked the finding does."""
        for override_reason in ("", "checked by the representative (load test)"):
            if self.account.approves_in_desk:
                # As a browser does: the form posts, and the ticket page it redirects to says what happened.
                response = self.call("desk: approve", self.desk.post,
                                     f"/w/{slug}/desk/tickets/{number}/drafts/{draft['id']}/", outcome=desk_outcome,
                                     data={"decision": "approve", "text": draft["text"], "override_reason": override_reason,
                                           "csrfmiddlewaretoken": self.desk.cookies.get("csrftoken", "")})
                outcome = desk_outcome(response) if response is not None else "error"
            else:
                response = self.call("api: approve", self.api.post, f"/api/w/{slug}/drafts/{draft['id']}/approve",
                                     json={"override_reason": override_reason})
                outcome = outcome_of(response) if response is not None else "error"
            if outcome == "ok":
                self.approved_drafts.add(draft["id"])
            if outcome != "blocked":
                return

    def call(self, kind, method, path, budgeted=True, outcome=None, **kwargs):
        if budgeted and not self.budget.take():
            return None
        started = time.perf_counter()
        try:
            response = method(self.base + path, timeout=60, **kwargs)
        except requests.RequestException as error:
            self.stats.record(kind, time.perf_counter() - started, "error", f"{type(error).__name__}: {error}")
            return None
        result = (outcome or outcome_of)(response)
        self.stats.record(kind, time.perf_counter() - started, result,
                          f"{response.status_code} {path}: {response.text[:200]}" if result == "error" else None)
        if response.status_code == 429:
            time.sleep(min(5.0, float(response.headers.get("Retry-After", 1))))
        return response


def outcome_of(response):
    if response.status_code < 400:
        return "ok"
    return EXPECTED.get(response.status_code, "error")


def desk_outcome(response):
    """The desk answers a decided or superseded draft with a message on the ticket page."""
    if response.status_code == 422:
        return "blocked"
    if response.status_code != 200:
        return outcome_of(response)
    return "ok" if "the reply is on its way" in response.text else "conflict"


@dataclass(frozen=True)
class CustomerMail:
    workspace: str
    channel: str  # "smtp" or "api"
    to: str
    sender: str
    sender_name: str
    subject: str
    text: str
    key: str  # the Message-ID by SMTP, the Idempotency-Key through the API

    def as_bytes(self):
        """With CRLF line ends: smtplib sends bytes as they are, and SMTP lines end in CRLF."""
        from email import policy
        from email.message import EmailMessage

        mail = EmailMessage(policy=policy.SMTP)
        mail["From"] = f"{self.sender_name} <{self.sender}>"
        mail["To"] = self.to
        mail["Subject"] = self.subject
        mail["Message-ID"] = f"<{self.key}>"
        mail.set_content(self.text)
        return mail.as_bytes()


class MailFeed(threading.Thread):
    """Delivers its mail evenly over the run. By SMTP it behaves like a sending mail server
    (a 4xx answer: try again a little later); through the API, like a tool using an
    Idempotency-Key (a failed call is simply repeated)."""

    def __init__(self, mails, seconds, stats, *, smtp_port=None, base_url=None, tokens=None):
        super().__init__(daemon=True)
        self.mails, self.interval = mails, seconds / max(1, len(mails))
        self.stats, self.smtp_port, self.base, self.tokens = stats, smtp_port, base_url, tokens or {}
        self.accepted, self.refused = [], []
        self.answers = Counter()  # every answer other than success, with its text
        self.session = requests.Session()

    def run(self):
        started = time.monotonic()
        for index, mail in enumerate(self.mails):
            time.sleep(max(0.0, started + index * self.interval - time.monotonic()))
            for _ in range(20):
                outcome = self.deliver(mail)
                if outcome == "ok":
                    self.accepted.append(mail)
                    break
                if outcome == "refused":
                    self.refused.append(mail)
                    break
                time.sleep(0.5)

    def deliver(self, mail):
        started = time.perf_counter()
        outcome, answer = self.send_smtp(mail) if mail.channel == "smtp" else self.send_api(mail)
        if answer:
            self.answers[answer] += 1
        # A 4xx answer is the server asking to try later, as designed; anything else unexpected is an error.
        self.stats.record(f"mail: {mail.channel}", time.perf_counter() - started,
                          {"ok": "ok", "retry": "deferred"}.get(outcome, "error") if answer[:1] != "5" else "error")
        return outcome

    def send_smtp(self, mail):
        try:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=60) as smtp:
                smtp.sendmail(mail.sender, [mail.to], mail.as_bytes())
            return "ok", ""
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
        except smtplib.SMTPResponseException as error:
            code, text = error.smtp_code, error.smtp_error
        except (OSError, smtplib.SMTPException) as error:
            return "retry", f"connection: {type(error).__name__}"
        return ("retry" if 400 <= code < 500 else "refused"), f"{code} {text.decode(errors='replace')[:120]}"

    def send_api(self, mail):
        try:
            response = self.session.post(
                f"{self.base}/api/w/{mail.workspace}/tickets", timeout=60,
                json={"from_email": mail.sender, "from_name": mail.sender_name, "subject": mail.subject,
                      "text": mail.text},
                headers={"Authorization": f"Bearer {self.tokens[mail.workspace]}", "Idempotency-Key": mail.key})
        except requests.RequestException as error:
            return "retry", f"connection: {type(error).__name__}"
        if response.status_code in (200, 201):
            return "ok", ""
        retry = response.status_code >= 500 or response.status_code == 429
        return ("retry" if retry else "refused"), f"{response.status_code} {response.text[:120]}"
