"""Checks run on every draft before a person sees it, and again on the edited text before sending.

Kinds of finding:

* ``tone``: greeting, sign-off, phrases to avoid, length, shouting.  Advice, never blocking.
* ``policy``: every amount, percentage, date, phone number, URL, e-mail address and
  commitment word (refund, free, discount, guarantee…) in the draft must come from a source
  the business stands behind.  Anything else blocks until a person edits it or overrides it
  with a reason (the override itself is recorded by the Django side).
* ``injection``: the customer's message addresses an AI (reported, not blocking: nothing in it
  was followed), or the draft itself carries such text (blocking).
* ``gap``: an unfilled ``[[confirm: …]]`` slot; blocking.

Allowed sources for a policy item, and why:

1. the approved reply template's literal text (approved by the business);
2. the business facts and policies, and the tone's greeting/sign-off;
3. the contact record, and slot values the drafter filled (each traced to its source);
4. the customer's own message, but only where the draft quotes it as theirs: inside double
   quotes ("…", “…”) or on a line starting with "> ", and only when that quoted text really is
   in their message.  Quoting shows a reader whose words they are; unquoted, the same words
   would read as the business's promise, which is how prompt injection would get through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

import phonenumbers

from lbsup.assist.details import DATE, MONEY, MONEY_SYMBOL, MONEY_WORD
from lbsup.assist.injection import detect_injection
from lbsup.assist.playbook import Playbook

GAP_PATTERN = re.compile(r"\[\[confirm: ([^\]\n]{1,80})\]\]")
PERCENT = re.compile(r"\b\d{1,3}(?:[.,]\d{1,2})?\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
COMMITMENT = re.compile(
    r"\b(?:refund(?:s|ed|ing)?|free(?: of charge)?|discount(?:s|ed)?|guarantee(?:s|d)?|credit(?:s|ed)?|"
    r"compensat(?:e|ion|ed)|waive(?:s|d)?|reimburs(?:e|ed|ement)|voucher|coupon|promo(?:tion)? code|"
    r"complimentary|on the house|no charge|at no cost|money back|write[- ]?off|replacement|"
    r"(?:we|i) promise|price match)\b", re.IGNORECASE)
QUOTED = re.compile(r"\"([^\"\n]{1,500})\"|“([^”\n]{1,500})”|^>\s?(.*)$", re.MULTILINE)
SHOUT_OK = frozenset({"USA", "FAQ", "PDF", "CEO", "UPS", "DHL", "PPO", "HMO", "HSA", "FSA", "OHP", "USD", "EUR",
                      "GBP", "CAD", "ASAP", "SMS", "URL", "ID", "PIN", "FAQ", "SKU", "ETA", "AM", "PM"})


@dataclass(frozen=True)
class Finding:
    kind: str
    rule: str
    evidence: tuple[str, ...]
    message: str
    blocking: bool

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "evidence": list(self.evidence), "message": self.message,
                "blocking": self.blocking}


def check_draft(text: str, *, playbook: Playbook, category: str = "", reply_template: str = "",
                message_text: str = "", contact: Iterable[str] = (), extra_facts: Iterable[str] = ()) -> tuple[Finding, ...]:
    """All findings for a draft (or an edited text) in a stable order: gaps, policy, injection, tone."""
    text = text or ""
    findings: list[Finding] = []
    gaps = [m.group(1) for m in GAP_PATTERN.finditer(text)]
    if gaps:
        findings.append(Finding("gap", "unfilled_slot", tuple(dict.fromkeys(gaps)),
                                f"Fill in before sending: {', '.join(dict.fromkeys(gaps))}.", True))
    sources = _Sources(playbook, reply_template, message_text, contact, extra_facts, text)
    findings.extend(_policy(text, sources, playbook.business.region))
    findings.extend(_injection(text, message_text))
    findings.extend(_tone(text, playbook, sources))
    return tuple(findings)


def blocking(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.blocking)


# --- sources --------------------------------------------------------------------------------

def _literal(template: str) -> str:
    """A template's own words, slots removed (a slot's value is checked on its own merits)."""
    return re.sub(r"\{[^{}]*\}", " ", template or "").replace("{{", "{").replace("}}", "}")


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("–", "-").replace("—", "-").split())


class _Sources:
    def __init__(self, playbook: Playbook, template: str, message_text: str, contact: Iterable[str],
                 extra: Iterable[str], draft: str):
        business = playbook.business
        trusted = [_literal(template), business.name, business.hours, business.address, business.phone,
                   business.website, *business.policies.values(), _literal(playbook.tone.greeting),
                   _literal(playbook.tone.sign_off), *contact, *extra]
        self.trusted_texts = [t for t in trusted if t]
        self.template = _norm(_literal(template))
        self.policies = [_norm(p) for p in business.policies.values()]
        self.quoted_spans = _quote_spans(draft, message_text)
        self.corpus = _norm(" \n ".join(self.trusted_texts))
        self.amounts = {a for t in self.trusted_texts for a in _amounts(t)}
        self.phones = {p for t in self.trusted_texts for p in _phones(t, business.region)}
        self.website_host = (urlsplit(business.website).hostname or "").lower() if business.website else ""

    def knows(self, words: str) -> bool:
        return _norm(words) in self.corpus


def _quote_spans(draft: str, message_text: str) -> list[tuple[int, int]]:
    """Spans of the draft that quote the customer's real words."""
    spans = []
    source = _norm(message_text or "")
    for match in QUOTED.finditer(draft):
        group = next(i for i, g in enumerate(match.groups(), start=1) if g is not None)
        if _norm(match.group(group)) and _norm(match.group(group)) in source:
            spans.append(match.span())
    return spans


def _amounts(text: str) -> set[str]:
    found = set()
    for match in MONEY.finditer(text):
        amount = match.group("a1") or match.group("a2") or match.group("a3")
        currency = (MONEY_SYMBOL.get(match.group("sym") or "") or (match.group("code1") or "").upper()
                    or MONEY_WORD.get((match.group("word") or "").lower(), "USD"))
        found.add(f"{float(amount.replace(',', '')):.2f} {currency}")
    return found


def _phones(text: str, region: str) -> set[str]:
    try:
        return {phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                for m in phonenumbers.PhoneNumberMatcher(text, region or "US", max_tries=50)}
    except Exception:  # an odd string must not stop the check; the item is then reported as unknown
        return set()


# --- policy ---------------------------------------------------------------------------------

def _policy(text: str, sources: _Sources, region: str) -> list[Finding]:
    unsupported: dict[str, list[str]] = {}

    def outside_quotes(match: re.Match) -> bool:
        return not any(s <= match.start() and match.end() <= e for s, e in sources.quoted_spans)

    for match in MONEY.finditer(text):
        if outside_quotes(match) and not (_amounts(match.group(0)) <= sources.amounts):
            unsupported.setdefault("amount", []).append(match.group(0))
    for match in PERCENT.finditer(text):
        if outside_quotes(match) and not sources.knows(match.group(0)):
            unsupported.setdefault("percentage", []).append(match.group(0))
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        host = (urlsplit(url if "://" in url else f"http://{url}").hostname or "").lower()
        if outside_quotes(match) and not sources.knows(url) and not (sources.website_host and host == sources.website_host):
            unsupported.setdefault("url", []).append(url)
    for match in EMAIL.finditer(text):
        if outside_quotes(match) and not sources.knows(match.group(0)):
            unsupported.setdefault("email", []).append(match.group(0))
    for phone_match in _phone_matches(text, region):
        start, end, number = phone_match
        if any(s <= start and end <= e for s, e in sources.quoted_spans):
            continue
        if number not in sources.phones:
            unsupported.setdefault("phone", []).append(text[start:end])
    for match in DATE.finditer(text):
        if outside_quotes(match) and not _inside_url_or_gap(text, match) and not sources.knows(match.group(0)):
            unsupported.setdefault("date", []).append(match.group(0))
    for match in COMMITMENT.finditer(text):
        if outside_quotes(match) and not _commitment_supported(text, match, sources):
            unsupported.setdefault("commitment", []).append(match.group(0))

    findings = []
    labels = {"amount": "amounts", "percentage": "percentages", "url": "links", "email": "e-mail addresses",
              "phone": "phone numbers", "date": "dates", "commitment": "commitments"}
    for rule, items in unsupported.items():
        words = tuple(dict.fromkeys(items))
        findings.append(Finding(
            "policy", f"unsupported_{rule}", words,
            f"{labels[rule].capitalize()} not found in the approved reply, business facts, contact record or a "
            f"quote of the customer: {', '.join(words)}. Edit them out or override with a reason.", True))
    return findings


def _phone_matches(text: str, region: str) -> list[tuple[int, int, str]]:
    try:
        return [(m.start, m.end, phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164))
                for m in phonenumbers.PhoneNumberMatcher(text, region or "US", max_tries=50)]
    except Exception:  # never let the phone library break the checks
        return []


def _inside_url_or_gap(text: str, match: re.Match) -> bool:
    for pattern in (URL, GAP_PATTERN):
        if any(m.start() <= match.start() and match.end() <= m.end() for m in pattern.finditer(text)):
            return True
    return False


def _commitment_supported(text: str, match: re.Match, sources: _Sources) -> bool:
    """A commitment word is fine when the approved reply uses it, or its sentence restates a policy."""
    word = match.group(0).lower()
    stem = word[:6]
    if stem in sources.template:
        return True
    sentence = _sentence_at(text, match.start())
    sentence_words = set(re.findall(r"\w+", sentence.lower()))
    for policy in sources.policies:
        if stem not in policy:
            continue
        policy_words = set(re.findall(r"\w+", policy))
        if policy_words and len(sentence_words & policy_words) / len(policy_words | sentence_words) >= 0.5:
            return True
    return False


def _sentence_at(text: str, index: int) -> str:
    start = max(text.rfind(".", 0, index), text.rfind("!", 0, index), text.rfind("?", 0, index),
                text.rfind("\n", 0, index)) + 1
    ends = [i for i in (text.find(c, index) for c in ".!?\n") if i != -1]
    return text[start: min(ends) if ends else len(text)]


# --- injection ------------------------------------------------------------------------------

def _injection(text: str, message_text: str) -> list[Finding]:
    findings = []
    in_message = detect_injection(message_text)
    if in_message:
        findings.append(Finding("injection", "customer_text_addresses_ai", in_message,
                                "The customer's message contains instructions aimed at an AI. They were not "
                                "followed; read the message yourself.", False))
    in_draft = detect_injection(text)
    if in_draft:
        findings.append(Finding("injection", "draft_carries_instructions", in_draft,
                                "The draft contains text addressed to an AI; remove it.", True))
    return findings


# --- tone -----------------------------------------------------------------------------------

def _tone(text: str, playbook: Playbook, sources: _Sources) -> list[Finding]:
    tone = playbook.tone
    findings = []
    stripped = text.strip()
    opening = _opening_words(tone.greeting)
    if opening and not _norm(stripped[:200]).startswith(_norm(opening)) and not re.match(
            r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b", stripped, re.IGNORECASE):
        findings.append(Finding("tone", "greeting_missing", (stripped[:30],),
                                f"Start with the greeting: \"{tone.greeting}\".", False))
    closing = _opening_words(tone.sign_off)
    if closing and _norm(closing) not in _norm(stripped[-300:]):
        findings.append(Finding("tone", "sign_off_missing", (stripped[-30:],),
                                f"End with the sign-off: \"{tone.sign_off}\".", False))
    for phrase in tone.avoid:
        found = re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE)
        if found:
            findings.append(Finding("tone", "avoid_phrase", (found.group(0),),
                                    f"The playbook asks to avoid \"{phrase}\".", False))
    if len(text) > tone.max_length:
        findings.append(Finding("tone", "too_long", (f"{len(text)} characters",),
                                f"Longer than the playbook's {tone.max_length} characters.", False))
    shouting = _shouting(text, sources)
    if shouting:
        findings.append(Finding("tone", "shouting", shouting, "Avoid capitals and repeated exclamation marks.", False))
    return findings


def _opening_words(template: str) -> str:
    """The greeting's words before its first slot, e.g. "Hi" of "Hi {customer_name},"."""
    return template.split("{", 1)[0].strip(" ,!.:;")


def _shouting(text: str, sources: _Sources) -> tuple[str, ...]:
    words = re.findall(r"\b[^\W\d_]{3,}\b", text)
    caps = [w for w in words if w.isupper() and w not in SHOUT_OK and not sources.knows(w)]
    evidence: list[str] = []
    if len(caps) >= 3 and len(caps) >= 0.3 * max(1, len(words)) or len(caps) >= 6:
        evidence.extend(caps[:5])
    bangs = re.findall(r"!{2,}", text)
    if bangs:
        evidence.append(bangs[0])
    return tuple(evidence)
