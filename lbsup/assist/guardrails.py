"""Checks run on every draft before a person sees it, and again on the edited text before sending.

Kinds of finding:

* ``tone``: greeting, sign-off, phrases to avoid, length, shouting.  Advice, never blocking.
* ``policy``: every amount, percentage, date, phone number, URL, e-mail address,
  commitment (refund, free, discount, guarantee…) and admission of fault or liability in the
  draft must come from a source the business stands behind.  Anything else blocks until a
  person edits it or overrides it with a reason (the override itself is recorded by the Django side).
  Commitments and admissions are read with the phrase tables (``guardrail_phrases.yaml``) of
  English, of every language the playbook declares and of every language the draft's clauses
  are written in, so a German promise in an English workspace's draft is caught too.
* ``injection``: the customer's message (its own text, the quoted thread, attachment text)
  addresses an AI (reported, not blocking: nothing in it was followed), or the draft itself
  carries such text (blocking).
* ``gap``: an unfilled ``[[confirm: …]]`` slot; blocking.

``compare_rewrite`` is the stricter check for a machine rewrite of a template draft (the LLM
polish): it must keep exactly the template draft's gaps and facts.

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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import phonenumbers

from lbsup.assist.details import (
    DATE,
    MONEY,
    MONEY_SYMBOL,
    MONEY_WORD,
    extract_dates,
    extract_emails,
    extract_identifiers,
    extract_money,
    extract_phones,
)
from lbsup.assist.injection import detect_injection
from lbsup.assist.phrases import LANGUAGES as PHRASE_LANGUAGES
from lbsup.assist.phrases import PhraseMatch, find_phrases, fold
from lbsup.assist.playbook import Playbook
from lbsup.assist.signals import _language_identifier

GAP_PATTERN = re.compile(r"\[\[confirm: ([^\]\n]{1,80})\]\]")
PERCENT = re.compile(r"\b\d{1,3}(?:[.,]\d{1,2})?\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
CLAUSE = re.compile(r"[^.!?\n,;:()]+")
# More clauses than this (a pasted document, hostile input): read them with every phrase table.
MAX_CLAUSES_TO_IDENTIFY = 80
# Relative dates ("tomorrow") in two texts compare equal when both resolve against the same moment.
FACT_REFERENCE = datetime(2000, 1, 3, 12)
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
                message_text: str = "", contact: Iterable[str] = (), extra_facts: Iterable[str] = (),
                quoted_text: str = "", attachments: Sequence[tuple[str, str]] = (),
                languages: Iterable[str] | None = None) -> tuple[Finding, ...]:
    """All findings for a draft (or an edited text) in a stable order: gaps, policy, injection, tone.

    ``languages`` are the workspace's declared languages (default: the playbook's);
    ``quoted_text`` and ``attachments`` ((name, text) pairs) are the rest of the customer's mail.
    """
    text = text or ""
    findings: list[Finding] = []
    gaps = [m.group(1) for m in GAP_PATTERN.finditer(text)]
    if gaps:
        findings.append(Finding("gap", "unfilled_slot", tuple(dict.fromkeys(gaps)),
                                f"Fill in before sending: {', '.join(dict.fromkeys(gaps))}.", True))
    declared = playbook.business.languages if languages is None else tuple(languages)
    sources = _Sources(playbook, reply_template, message_text, contact, extra_facts, text)
    languages = draft_languages(text, declared, known=sources.knows)
    findings.extend(_policy(text, sources, playbook.business.region, languages))
    findings.extend(_injection(text, message_text, quoted_text, attachments))
    findings.extend(_tone(text, playbook, sources))
    return tuple(findings)


def draft_languages(text: str, declared: Iterable[str] = (), known=lambda clause: False) -> tuple[str, ...]:
    """The phrase tables to read `text` with: English, the declared languages, each clause's language.

    Clauses that `known` says are the business's own words (copied from the template or its
    facts) need no identifying: whatever they promise, the business approved.
    """
    clauses = [c for c in CLAUSE.findall(text) if len(c.split()) >= 2 and not known(c)]
    if len(clauses) > MAX_CLAUSES_TO_IDENTIFY:
        return PHRASE_LANGUAGES
    # Each clause on its own: "…is on its way, wir erstatten Ihnen alles" must still get the German table.
    # No probability threshold: reading with one table too many costs nothing but a closer look.
    found = {"en", *declared, *(_language_identifier().classify(c)[0] for c in clauses)}
    return tuple(language for language in PHRASE_LANGUAGES if language in found)


def blocking(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.blocking)


# --- sources --------------------------------------------------------------------------------

def _literal(template: str) -> str:
    """A template's own words, slots removed (a slot's value is checked on its own merits)."""
    return re.sub(r"\{[^{}]*\}", " ", template or "").replace("{{", "{").replace("}}", "}")


def _norm(text: str) -> str:
    return fold(text)


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

def _policy(text: str, sources: _Sources, region: str, languages: tuple[str, ...]) -> list[Finding]:
    unsupported: dict[str, list[str]] = {}

    def outside_quotes(match: re.Match | PhraseMatch) -> bool:
        start, end = (match.start, match.end) if isinstance(match, PhraseMatch) else match.span()
        return not any(s <= start and end <= e for s, e in sources.quoted_spans)

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
    for kind in ("commitment", "admission"):
        for phrase in find_phrases(text, kind, languages):
            if outside_quotes(phrase) and not _commitment_supported(text, phrase, sources):
                unsupported.setdefault(kind, []).append(phrase.text)

    findings = []
    labels = {"amount": "amounts", "percentage": "percentages", "url": "links", "email": "e-mail addresses",
              "phone": "phone numbers", "date": "dates", "commitment": "commitments",
              "admission": "admissions of fault or liability"}
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


def _commitment_supported(text: str, match: PhraseMatch, sources: _Sources) -> bool:
    """A commitment word is fine when the approved reply uses it, or its sentence restates a policy."""
    stem = fold(match.text)[:6]
    if stem in sources.template:
        return True
    sentence = _sentence_at(text, match.start)
    sentence_words = set(re.findall(r"\w+", fold(sentence)))
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

def _injection(text: str, message_text: str, quoted_text: str,
               attachments: Sequence[tuple[str, str]]) -> list[Finding]:
    findings = []
    in_message = detect_injection(message_text, quoted=quoted_text, attachments=attachments)
    if in_message:
        findings.append(Finding("injection", "customer_text_addresses_ai", in_message,
                                "The customer's message contains instructions aimed at an AI. They were not "
                                "followed; read the message yourself.", False))
    in_draft = detect_injection(text, where="draft")
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


# --- machine rewrites -----------------------------------------------------------------------

def compare_rewrite(original: str, rewrite: str, *, playbook: Playbook) -> tuple[Finding, ...]:
    """What a rewrite of `original` changed that it must keep: its ``[[confirm: …]]`` gaps and its facts.

    Facts are amounts, dates, times, order and other identifiers, e-mail addresses, phone
    numbers, links and any other number, compared by meaning ("$1,500" = "USD 1500").
    """
    findings = []
    gaps_before, gaps_after = Counter(GAP_PATTERN.findall(original)), Counter(GAP_PATTERN.findall(rewrite))
    if gaps_before != gaps_after:
        evidence = ([f"dropped [[confirm: {g}]]" for g in (gaps_before - gaps_after)]
                    + [f"added [[confirm: {g}]]" for g in (gaps_after - gaps_before)])
        findings.append(Finding("rewrite", "gaps_changed", tuple(evidence),
                                "The rewrite must keep every [[confirm: …]] gap as it is.", True))
    facts_before, facts_after = _facts(original, playbook), _facts(rewrite, playbook)
    changed = ([f"added {facts_after[key]}" for key in facts_after if key not in facts_before]
               + [f"dropped {facts_before[key]}" for key in facts_before if key not in facts_after])
    if changed:
        findings.append(Finding("rewrite", "facts_changed", tuple(changed),
                                "The rewrite must keep exactly the facts of the draft it rephrases.", True))
    return tuple(findings)


def _facts(text: str, playbook: Playbook) -> dict[tuple[str, str], str]:
    """Each fact of `text` by (kind, normalized value), with the words it was first written as."""
    text = GAP_PATTERN.sub(" ", text)  # gaps are compared on their own
    business = playbook.business
    details = [*extract_emails(text, "draft"), *extract_phones(text, "draft", business.region),
               *extract_identifiers(text, "draft", playbook), *extract_money(text, "draft"),
               *extract_dates(text, "draft", FACT_REFERENCE.replace(tzinfo=business.tz), business.tz)]
    facts: dict[tuple[str, str], str] = {}
    covered = []
    for detail in details:
        facts.setdefault((detail.kind, detail.normalized), detail.value)
        covered.append(detail.span)
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        facts.setdefault(("url", url.lower()), url)
        covered.append(match.span())
    for match in NUMBER.finditer(text):
        if not any(start <= match.start() and match.end() <= end for start, end in covered):
            facts.setdefault(("number", match.group(0)), match.group(0))
    return facts
