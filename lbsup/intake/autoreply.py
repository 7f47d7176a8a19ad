"""Recognise mail that no human wrote: auto-replies, out-of-office notes, bounces, list traffic.

Support software must not answer these (mail loops) nor open tickets for them as
if a customer wrote. Every verdict carries the header or words that triggered it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class AutoKind(StrEnum):
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    OUT_OF_OFFICE = "out_of_office"


@dataclass(frozen=True)
class AutoDetection:
    kind: AutoKind
    reason: str


_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)

_BOUNCE_SUBJECT = re.compile(
    r"undeliverable|undelivered mail|delivery status notification|delivery has failed|"
    r"mail delivery failed|returned mail|failure notice|delivery failure|"
    r"unzustellbar|nicht zustellbar|non remis|no se puede entregar",
    re.IGNORECASE,
)

_OUT_OF_OFFICE_SUBJECT = re.compile(
    r"out of (the )?office|\booo\b|on vacation|on holiday|on leave|"
    r"abwesenheitsnotiz|abwesenheit|nicht im büro|außer haus|"
    r"fuera de la oficina|respuesta automática: ausente|absence du bureau|"
    r"absent du bureau|fuori sede|fuori ufficio|afwezig",
    re.IGNORECASE,
)

_AUTO_REPLY_SUBJECT = re.compile(
    r"automatic reply|auto(matic)?[- ]?response|auto[- ]?reply|autoreply|"
    r"automatische antwort|respuesta automática|réponse automatique|risposta automatica|"
    r"automatisch antwoord|we have received your (message|request|email)",
    re.IGNORECASE,
)

_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}


def detect_automatic_mail(
    headers: Mapping[str, str], *, subject: str = "", from_email: str = ""
) -> AutoDetection | None:
    """Classify a message from its headers (lower-cased names) and subject; None if a person wrote it.

    Bounces are checked first (they matter most for deliverability), then
    out-of-office, then other auto-replies, then mailing-list mail.
    """
    def header(name: str) -> str:
        return (headers.get(name) or "").strip()

    content_type = header("content-type").lower()
    if "multipart/report" in content_type and "delivery-status" in content_type:
        return AutoDetection(AutoKind.BOUNCE, "Content-Type multipart/report; report-type=delivery-status")
    if _BOUNCE_SENDER.match(from_email or ""):
        return AutoDetection(AutoKind.BOUNCE, f"sender {from_email} is a mail system address")
    if "return-path" in headers and header("return-path").replace(" ", "") == "<>":
        bounce_words = _BOUNCE_SUBJECT.search(subject)
        if bounce_words:
            return AutoDetection(
                AutoKind.BOUNCE, f"empty Return-Path <> and subject words '{bounce_words.group(0)}'"
            )
    bounce_words = _BOUNCE_SUBJECT.search(subject)
    if bounce_words:
        return AutoDetection(AutoKind.BOUNCE, f"subject contains '{bounce_words.group(0)}'")

    ooo_words = _OUT_OF_OFFICE_SUBJECT.search(subject)
    if ooo_words:
        return AutoDetection(AutoKind.OUT_OF_OFFICE, f"subject contains '{ooo_words.group(0)}'")

    auto_submitted = header("auto-submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return AutoDetection(AutoKind.AUTO_REPLY, f"header Auto-Submitted: {auto_submitted}")
    for name, label in (("x-autoreply", "X-Autoreply"), ("x-autorespond", "X-Autorespond")):
        if name in headers:
            return AutoDetection(AutoKind.AUTO_REPLY, f"header {label}: {header(name)}")
    suppress = header("x-auto-response-suppress")
    if suppress and suppress.lower() != "none":
        return AutoDetection(AutoKind.AUTO_REPLY, f"header X-Auto-Response-Suppress: {suppress}")
    auto_words = _AUTO_REPLY_SUBJECT.search(subject)
    if auto_words:
        return AutoDetection(AutoKind.AUTO_REPLY, f"subject contains '{auto_words.group(0)}'")

    precedence = header("precedence").lower()
    if precedence in _BULK_PRECEDENCE:
        kind = AutoKind.AUTO_REPLY if precedence.startswith("auto") else AutoKind.LIST
        return AutoDetection(kind, f"header Precedence: {precedence}")
    for name, label in (("list-id", "List-Id"), ("list-unsubscribe", "List-Unsubscribe")):
        if header(name):
            return AutoDetection(AutoKind.LIST, f"header {label}: {header(name)[:200]}")
    return None
