"""Reply drafts: choose an approved reply of the message's category and fill its slots.

A draft is a proposal for a representative, never a message that leaves on its own.

* Only the replies of the triaged category are eligible, so nothing a customer writes can
  widen the choice; a representative may force another reply of the same category.
* Templates are read with ``string.Formatter().parse`` and assembled piece by piece:
  customer-controlled values are inserted literally after ``injection.neutralize`` and are
  never passed through ``str.format`` (no format-string injection, no ``{0.__class__}``).
* Every slot that could not be filled becomes a visible gap ``[[confirm: appointment time]]``
  and is listed in ``missing``; the guardrails treat gaps as blocking until a person fills them.
* Money is never filled from the customer's words: an amount the business states must come
  from its own records (ledger, order), so ``{balance}``-like slots stay gaps.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

from lbsup.assist.guardrails import Finding, check_draft
from lbsup.assist.injection import NAME_LIMIT, VALUE_LIMIT, neutralize
from lbsup.assist.playbook import Category, Playbook, QualificationField, Reply
from lbsup.assist.results import UNSURE, Detail, MessageInput, TriageResult

GAP = "[[confirm: {label}]]"
GAP_PATTERN = re.compile(r"\[\[confirm: ([^\]\n]{1,80})\]\]")
DATE_KINDS = ("datetime", "date", "time")
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?$")
# Slot names that mean "the moment the customer asked about", which their own message may state.
_CUSTOMER_TIME_SLOT = re.compile(r"^(?:appointment|requested|preferred|visit|booking|current)_(?:time|date|day|times)$")


class DraftError(ValueError):
    """A request the drafter refuses, with the reason a representative can read."""


@dataclass(frozen=True)
class ContactFacts:
    """What the CRM knows about the customer: trusted more than the message itself."""

    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SlotValue:
    value: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True)
class ReplyScore:
    reply_id: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"reply_id": self.reply_id, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Draft:
    reply_id: str | None
    category: str
    text: str
    missing: tuple[str, ...] = ()
    filled: dict[str, SlotValue] = field(default_factory=dict)
    checks: tuple[Finding, ...] = ()
    alternatives: tuple[ReplyScore, ...] = ()
    source: str = "template"
    score: float = 0.0
    note: str = ""
    fallback_reason: str = ""

    @property
    def blocking(self) -> bool:
        return any(f.blocking for f in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply_id": self.reply_id,
            "category": self.category,
            "text": self.text,
            "missing": list(self.missing),
            "filled": {k: v.to_dict() for k, v in self.filled.items()},
            "checks": [f.to_dict() for f in self.checks],
            "alternatives": [a.to_dict() for a in self.alternatives],
            "source": self.source,
            "score": round(self.score, 4),
            "note": self.note,
            "fallback_reason": self.fallback_reason,
        }


def slot_label(slot: str) -> str:
    return slot.replace("_", " ").strip()


def gap(slot: str) -> str:
    return GAP.format(label=slot_label(slot))


def draft_reply(message: MessageInput, triage: TriageResult, playbook: Playbook, *,
                contact: ContactFacts | None = None, reply_id: str | None = None, encoder=None,
                known: Mapping[str, str] | None = None) -> Draft:
    """The best approved reply of the triaged category, filled and checked.

    ``known`` holds values a representative or the CRM supplies for slots (``agent_name``,
    ``carrier``…); they are trusted like business facts but still cleaned.
    """
    if triage.category == UNSURE:
        return Draft(None, UNSURE, "", note="The category is unsure: a person must triage this message first.")
    try:
        category = playbook.category(triage.category)
    except KeyError:
        raise DraftError(f"category '{triage.category}' is not in playbook {playbook.version}") from None
    if not category.replies:
        return Draft(None, category.slug, "",
                     note=f"'{category.name}' has no approved reply: write this one by hand.")
    message_text = f"{message.subject}\n{message.body}".strip()
    ranked = rank_replies(message_text, category.replies, encoder=encoder)
    if reply_id is not None:
        if reply_id not in {r.id for r in category.replies}:
            raise DraftError(f"reply '{reply_id}' is not an approved reply of category '{category.slug}'")
        chosen_id = reply_id
    else:
        chosen_id = ranked[0].reply_id
    reply = next(r for r in category.replies if r.id == chosen_id)
    score = next(s.score for s in ranked if s.reply_id == chosen_id)

    filler = _SlotFiller(message, triage, playbook, contact or ContactFacts(), known or {})
    body = filler.render(reply.template)
    greeting = filler.render_greeting(playbook.tone.greeting)
    sign_off = filler.render(playbook.tone.sign_off)
    parts = [greeting, body]
    questions = missing_questions(category, message_text, triage.details) if category.handling == "qualify" else ()
    if questions:
        parts.append("To get you started, could you tell us:\n" + "\n".join(f"- {q.question}" for q in questions))
    parts.append(sign_off)
    text = "\n\n".join(p for p in parts if p.strip())

    checks = check_draft(
        text, playbook=playbook, category=category.slug, reply_template=reply.template,
        message_text=message_text, contact=_contact_values(contact), extra_facts=filler.trusted_values(),
        quoted_text=message.quoted, attachments=message.attachments,
    )
    return Draft(
        reply_id=reply.id, category=category.slug, text=text, missing=tuple(dict.fromkeys(filler.missing)),
        filled=dict(filler.filled), checks=checks,
        alternatives=tuple(s for s in ranked if s.reply_id != reply.id), source="template", score=score,
        note=_note(category, questions),
    )


def _note(category: Category, questions: Sequence) -> str:
    if category.handling == "qualify" and questions:
        return f"Asks {len(questions)} qualification question(s) the message does not answer yet."
    if category.handling == "escalate":
        return "Escalated category: this acknowledgement promises nothing beyond the playbook."
    return ""


def _contact_values(contact: ContactFacts | None) -> tuple[str, ...]:
    if contact is None:
        return ()
    return tuple(v for v in (contact.name, contact.email, contact.phone) if v)


def template_slots(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


class _SlotFiller:
    def __init__(self, message: MessageInput, triage: TriageResult, playbook: Playbook, contact: ContactFacts,
                 known: Mapping[str, str]):
        self.message = message
        self.triage = triage
        self.playbook = playbook
        self.contact = contact
        self.known = known
        self.filled: dict[str, SlotValue] = {}
        self.missing: list[str] = []

    def render(self, template: str, blank_when_missing: frozenset[str] = frozenset()) -> str:
        pieces = []
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:  # playbook validation rejects such templates; stay safe for hand-built ones
            return template
        for literal, name, _, _ in parsed:
            pieces.append(literal)
            if name is None:
                continue
            found = self.value(name)
            if found is not None:
                self.filled[name] = found
                pieces.append(found.value)
            elif name in blank_when_missing:
                pieces.append("")
            else:
                self.missing.append(name)
                pieces.append(gap(name))
        return "".join(pieces)

    def render_greeting(self, greeting: str) -> str:
        """The tone's greeting; without a known name "Hi {customer_name}," degrades to "Hi there,"."""
        names = {"customer_name", "first_name"}
        if not any(self.value(n) for n in names & set(template_slots(greeting))):
            rendered = self.render(greeting, blank_when_missing=frozenset(names))
            rendered = re.sub(r"^(\s*(?:hi|hello|hey))\s*([,!])", r"\1 there\2", rendered, flags=re.IGNORECASE)
            rendered = re.sub(r"^(\s*dear)\s*([,!])", r"Hello\2", rendered, flags=re.IGNORECASE)
            return re.sub(r"(?<!\s)\s+([,!])", r"\1", rendered)  # (?<!\s): each run is tried once, not from each space
        return self.render(greeting)

    def trusted_values(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.filled.values())

    def value(self, slot: str) -> SlotValue | None:
        business = self.playbook.business
        facts = {
            "business_name": business.name, "business_phone": business.phone,
            "business_address": business.address, "business_hours": business.hours,
            "business_website": business.website,
        }
        if slot in facts:
            return SlotValue(facts[slot], "business facts") if facts[slot] else None
        if slot in self.known and str(self.known[slot]).strip():
            return SlotValue(neutralize(self.known[slot]), "provided by the representative")
        if slot in ("customer_name", "first_name"):
            return self.name(first_only=slot == "first_name")
        if slot == "customer_email":
            email = self.contact.email or self.message.sender.email
            return SlotValue(neutralize(email, VALUE_LIMIT), "contact record" if self.contact.email else "sender")\
                if email else None
        if slot == "manager_name":
            try:
                lead = self.playbook.team(self.playbook.escalation_owner).lead
            except KeyError:
                lead = ""
            return SlotValue(lead, "playbook team lead") if lead else None
        if slot == "agent_name":
            return None
        if slot.endswith("_lead"):
            team_slug = slot[: -len("_lead")].replace("_", "-")
            lead = next((t.lead for t in self.playbook.teams if t.slug in (team_slug, slot[: -len("_lead")])), "")
            return SlotValue(lead, "playbook team lead") if lead else None
        identifier_kinds = {i.kind for i in self.playbook.identifiers}
        if slot in identifier_kinds:
            return self.detail(lambda d: d.kind == slot, use_normalized=True)
        if slot in ("phone", "customer_phone"):
            if self.contact.phone:
                return SlotValue(neutralize(self.contact.phone), "contact record")
            return self.detail(lambda d: d.kind == "phone", use_normalized=False)
        if _CUSTOMER_TIME_SLOT.match(slot):
            return self.detail(lambda d: d.kind in DATE_KINDS and d.source == "body", use_normalized=False)
        return None

    def name(self, first_only: bool) -> SlotValue | None:
        candidates = [(self.contact.name, "contact record")]
        details = [d for d in self.triage.details if d.kind == "person_name"]
        candidates += [(d.normalized, "sender" if d.source == "sender" else f"message {d.source} {d.span[0]}-{d.span[1]}")
                       for d in details]
        for raw, source in candidates:
            # Only name-like words survive: "{__class__} <b>Dana</b>" is reduced to "Dana".
            words = [w for w in neutralize(raw, NAME_LIMIT).split() if _NAME_WORD.match(w)]
            clean = " ".join(words)
            if not clean or len(words) > 4:
                continue
            return SlotValue(clean.split()[0] if first_only else clean, source)
        return None

    def detail(self, wanted, use_normalized: bool) -> SlotValue | None:
        for detail in self.triage.details:
            if wanted(detail):
                raw = detail.normalized if use_normalized else detail.value
                clean = neutralize(raw, VALUE_LIMIT)
                if clean:
                    return SlotValue(clean, _where(detail))
        return None


def _where(detail: Detail) -> str:
    return f"message {detail.source} {detail.span[0]}-{detail.span[1]}" if detail.source != "sender" else "sender"


def edit_distance_ratio(proposed: str, sent: str) -> float:
    """How much a representative changed a draft: 0 = sent as proposed, 1 = rewritten entirely."""
    from rapidfuzz.distance import Levenshtein

    proposed, sent = proposed or "", sent or ""
    if not proposed and not sent:
        return 0.0
    return float(Levenshtein.normalized_distance(proposed, sent))


# --- choosing the reply ---------------------------------------------------------------------

def rank_replies(message_text: str, replies: Sequence[Reply], *, encoder=None) -> list[ReplyScore]:
    """Replies ordered by similarity of the message to each reply's description and examples.

    A reply scores the mean of its best-matching text (one close example is strong evidence)
    and its whole description+examples.  TF-IDF (word and character n-grams fitted on the
    reply texts) works offline with no model; an encoder, when given, compares meanings.
    """
    if len(replies) == 1:
        return [ReplyScore(replies[0].id, 1.0)]
    texts_of = [[t for t in (r.description, *r.examples) if t] or [r.id.replace("-", " ")] for r in replies]
    documents = [" ".join(texts) for texts in texts_of]
    flat = [t for texts in texts_of for t in texts]
    message = message_text[:4000]
    similarities = _similarities(message, documents + flat, encoder)
    if similarities is None:  # nothing but stop words anywhere: keep the playbook's order
        return [ReplyScore(r.id, 0.0) for r in replies]
    whole, single = similarities[: len(documents)], similarities[len(documents):]
    scores, offset = [], 0
    for i, texts in enumerate(texts_of):
        best = max(single[offset: offset + len(texts)])
        offset += len(texts)
        scores.append((whole[i] + best) / 2)
    ranked = sorted(zip(replies, scores), key=lambda pair: -pair[1])  # stable: ties keep playbook order
    return [ReplyScore(r.id, round(float(s), 4)) for r, s in ranked]


@lru_cache(maxsize=256)
def _reply_vectors(encoder, texts: tuple[str, ...]):
    # A category's approved replies are the same for every message: encoding them once per
    # playbook instead of once per draft halves triage time (bench/load.py profile).
    return encoder.encode(list(texts))


def _similarities(message: str, texts: list[str], encoder) -> list[float] | None:
    if encoder is not None:
        vectors = _reply_vectors(encoder, tuple(texts))
        (message_vector,) = encoder.encode([message])
        return [float(v) for v in vectors @ message_vector]
    from sklearn.feature_extraction.text import TfidfVectorizer

    total = [0.0] * len(texts)
    fitted = False
    for params in ({"ngram_range": (1, 2), "sublinear_tf": True, "stop_words": "english"},
                   {"analyzer": "char_wb", "ngram_range": (3, 5), "sublinear_tf": True}):
        try:
            matrix = TfidfVectorizer(**params).fit_transform(texts + [message])
        except ValueError:  # an empty vocabulary for this analyzer
            continue
        fitted = True
        for i, value in enumerate((matrix[:-1] @ matrix[-1].T).toarray().ravel()):
            total[i] += float(value) / 2
    return total if fitted else None


# --- qualification ----------------------------------------------------------------------------

# What counts as "already answered" for a qualification field, keyed by words of the field name.
FIELD_CUES: tuple[tuple[frozenset[str], tuple[str, ...], re.Pattern[str] | None], ...] = (
    (frozenset({"time", "times", "date", "dates", "day", "days", "availability"}), DATE_KINDS,
     re.compile(r"\b(?:mornings?|afternoons?|evenings?|weekends?|weekdays?|any ?time|anytime)\b", re.I)),
    (frozenset({"insurance", "carrier", "insurer", "plan"}), (),
     re.compile(r"\b(?:insurance|insured|insurer|ppo|hmo|delta|cigna|metlife|aetna|guardian|medicaid|ohp|"
                r"humana|united ?health\w*|blue cross|bcbs)\b", re.I)),
    (frozenset({"volume", "units", "quantity", "budget", "size"}), ("money",),
     re.compile(r"\b(?<![\d,])\d[\d,]*\s*(?:units?|pieces?|pcs|items?|sets?|boxes|cases)\b|\bbudget\b", re.I)),
    (frozenset({"business", "company", "shop", "store"}), (),
     re.compile(r"\b(?:(?:my|our)\s+(?:\w+\s+){0,2}(?:shop|store|boutique|business|company|studio|firm|"
                r"agency|hotel|restaurant|cafe|salon)|we(?:'re| are)\s+an?\s+\w+|i (?:own|run|manage)\s+an?\s+)",
                re.I)),
    (frozenset({"treatment", "interest", "products", "product", "service", "services"}), (),
     re.compile(r"\b(?:clean(?:ing)?s?|whitening|implants?|invisalign|aligners?|veneers?|crowns?|check-?ups?|"
                r"exams?|fillings?|braces|root canal|candles?|throws?|ceramics?|linens?|blankets?|rugs?|"
                r"towels?|mugs?|bowls?|duvets?|sheets?|lamps?|vases?)\b", re.I)),
)


def missing_questions(category: Category, message_text: str, details: Sequence[Detail]) -> tuple[QualificationField, ...]:
    """Qualification fields the message does not answer yet, in the playbook's order."""
    kinds = {d.kind for d in details if d.source != "sender"}
    return tuple(q for q in category.qualification if not _answered(q.field, message_text, kinds))


def _answered(field_name: str, text: str, kinds: set[str]) -> bool:
    words = set(field_name.split("_"))
    for cue_words, detail_kinds, pattern in FIELD_CUES:
        if words & cue_words:
            if kinds & set(detail_kinds) or (pattern is not None and pattern.search(text)):
                return True
    return False
