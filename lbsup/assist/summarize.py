"""Thread summaries for representatives: who asked what, what was promised, what is still open.

Extractive and rule-assembled, fully offline: each summary sentence names the message it
came from (index) and the span of that message's text it quotes, so a reader can check it.

* the customer's request: the sentence of the first customer messages that best states a
  problem or a question (cue words, then position);
* what the business did or promised: "we will…", "I'll send…", "refund…" sentences of the
  business's messages, else its last substantive sentence;
* what is still open: customer questions after the business's last message.

The wording ("Customer asks…", "Agent promised…") follows how people write ticket summaries;
bench/summarize.py measures it against human summaries of TweetSumm.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Sequence

MAX_MESSAGES = 200
MAX_CHARS_PER_MESSAGE = 5_000
MAX_SENTENCE_WORDS = 40

_MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_SIGNATURE = re.compile(r"(?:\s[\^\-~*]\s?[A-Z]{1,3}[a-z]*\b|\s\^\w+)\s*$")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_SPACE = re.compile(r"\s+")

PROBLEM_CUES = re.compile(
    r"\b(?:not|no|never|can'?t|cannot|won'?t|doesn'?t|didn'?t|isn'?t|wasn'?t|haven'?t|hasn'?t|unable|issue|problem|"
    r"error|broken|fail(?:ed|s|ing)?|stuck|missing|lost|delay(?:ed)?|late|wrong|charged|refund|cancel(?:led)?|"
    r"help|please|why|how|when|where|what|still|waiting)\b", re.IGNORECASE)
PROMISE_CUES = re.compile(
    r"\b(?:we(?:'ll| will| are going to|'re going to| can| have| 've)|i(?:'ll| will| have| 've| can)|"
    r"let(?:'s| us| me)|(?:please )?(?:dm|direct message|send|follow|reach out|contact|check|try|visit|call)|"
    r"refund(?:ed)?|replace(?:ment)?|credit(?:ed)?|escalat\w+|forward(?:ed)?|look into)\b", re.IGNORECASE)
COMPLAINT_WORDS = re.compile(
    r"\b(?:not|no|never|can'?t|cannot|won'?t|doesn'?t|didn'?t|isn'?t|wasn'?t|haven'?t|hasn'?t|unable|issue|problem|"
    r"error|broken|fail\w*|stuck|missing|lost|delay\w*|late|wrong|charged|worst|terrible|crash\w*|bad|still|"
    r"waiting)\b", re.IGNORECASE)
GREETING_ONLY = re.compile(
    r"^(?:hi|hello|hey|thanks?|thank you|thx|ok(?:ay)?|great|cool|sure|yes|no|np|you're welcome|"
    r"sorry(?: to hear that)?|happy to help|glad to help|have a (?:great|nice|good) day)\W*(?:\w+\W*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class SummarySentence:
    role: str              # "request" | "action" | "promise" | "open"
    text: str
    source_index: int      # index of the message in the thread
    span: tuple[int, int]  # characters of that message's text

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "text": self.text, "source_index": self.source_index, "span": list(self.span)}


@dataclass(frozen=True)
class Summary:
    sentences: tuple[SummarySentence, ...]
    messages: int

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "messages": self.messages, "sentences": [s.to_dict() for s in self.sentences]}


@dataclass(frozen=True)
class _Sentence:
    index: int
    inbound: bool
    text: str
    span: tuple[int, int]
    position: int  # order of the sentence within its message


def summarize_thread(thread: Sequence[Any], *, max_sentences: int = 3) -> Summary:
    """Summary of a thread; items need ``direction`` ("inbound"/"outbound", or ``role``
    "customer"/"agent") and ``text`` (attributes or mapping keys)."""
    items = list(thread)[:MAX_MESSAGES]
    sentences = [s for i, item in enumerate(items) for s in _sentences(i, item)]
    customer = [s for s in sentences if s.inbound]
    business = [s for s in sentences if not s.inbound]
    picked: list[tuple[str, _Sentence]] = []
    request = _best_request(customer)
    if request:
        picked.append(("request", request))
    action = _best_action(business)
    if action:
        picked.append((_action_role(action), action))
    for open_question in _open_questions(items, customer, request):
        picked.append(("open", open_question))
    # Each point once: a customer who asks the same thing again, or a reply that repeats it.
    points: list[frozenset[str]] = []
    chosen: list[SummarySentence] = []
    for role, sentence in picked:
        words = _words(sentence.text)
        if any(_same_point(words, earlier) for earlier in points):
            continue
        points.append(words)
        chosen.append(_phrase(role, sentence))
    return Summary(tuple(chosen[:max(1, max_sentences)]), len(items))


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[^\W_]+", text.lower()))


def _same_point(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.8


def _field(item: Any, name: str, default: Any = "") -> Any:
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def _is_inbound(item: Any) -> bool:
    direction = _field(item, "direction", "") or ""
    if direction:
        return direction == "inbound"
    return (_field(item, "role", "") or "customer") == "customer"


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def _clean(text: str) -> str:
    """Links, @handles and agent initials blanked out with spaces, so spans still point into the original."""
    text = _URL.sub(_blank, text)
    text = _MENTION.sub(_blank, text)
    return _SIGNATURE.sub(_blank, text)


def _sentences(index: int, item: Any) -> list[_Sentence]:
    raw = str(_field(item, "text", "") or "")[:MAX_CHARS_PER_MESSAGE]
    cleaned = _clean(raw)
    # Entities like &amp; are common in exported threads; same-length replacement keeps the spans valid.
    cleaned = re.sub(r"&(?:amp|lt|gt|quot|#39);", lambda m: html.unescape(m.group(0)).ljust(len(m.group(0))), cleaned)
    found = []
    position = 0
    for match in _SENTENCE.finditer(cleaned):
        text = _SPACE.sub(" ", match.group(0)).strip(" -–—:;,")
        if len(re.findall(r"[^\W\d_]{2,}", text)) < 2 or GREETING_ONLY.match(text):
            continue
        words = text.split()
        if len(words) > MAX_SENTENCE_WORDS:
            text = " ".join(words[:MAX_SENTENCE_WORDS]) + "…"
        found.append(_Sentence(index, _is_inbound(item), text, match.span(), position))
        position += 1
    return found


def _best_request(customer: list[_Sentence]) -> _Sentence | None:
    if not customer:
        return None
    first_index = customer[0].index
    early = [s for s in customer if s.index <= first_index + 1]

    def score(s: _Sentence) -> float:
        cues = len(PROBLEM_CUES.findall(s.text))
        return min(cues, 3) + (1.5 if s.text.endswith("?") else 0) - 0.6 * s.position - 1.0 * (s.index - first_index) \
            + min(len(s.text.split()), 20) / 20
    return max(early, key=score)


def _best_action(business: list[_Sentence]) -> _Sentence | None:
    if not business:
        return None
    last_index = business[-1].index
    promises = [s for s in business if PROMISE_CUES.search(s.text)]
    if promises:
        return max(promises, key=lambda s: (s.index == last_index, s.index, -s.position))
    return business[-1]


def _action_role(sentence: _Sentence) -> str:
    return "promise" if re.search(r"\b(?:we(?:'ll| will)|i(?:'ll| will)|refund|replace|credit)", sentence.text,
                                  re.IGNORECASE) else "action"


def _open_questions(items: list[Any], customer: list[_Sentence], request: _Sentence | None) -> list[_Sentence]:
    last_business = max((i for i, item in enumerate(items) if not _is_inbound(item)), default=-1)
    if last_business < 0:
        return []
    return [s for s in customer if s.index > last_business and s.text.endswith("?") and s is not request][:1]


_FIRST_PERSON = [
    (re.compile(r"\bI'm\b|\bI am\b", re.I), "they are"), (re.compile(r"\bI've\b|\bI have\b", re.I), "they have"),
    (re.compile(r"\bI'll\b", re.I), "they will"), (re.compile(r"\bI\b"), "they"),
    (re.compile(r"\bmy\b", re.I), "their"), (re.compile(r"\bme\b", re.I), "them"),
]
_BUSINESS_FIRST_PERSON = [
    (re.compile(r"\bwe'll\b", re.I), "they will"), (re.compile(r"\bwe're\b", re.I), "they are"),
    (re.compile(r"\bwe've\b", re.I), "they have"), (re.compile(r"\bwe\b", re.I), "they"),
    (re.compile(r"\bour\b", re.I), "their"), (re.compile(r"\bus\b", re.I), "them"),
    (re.compile(r"\bI'll\b", re.I), "they will"), (re.compile(r"\bI\b"), "they"),
    (re.compile(r"\byour\b", re.I), "the customer's"), (re.compile(r"\byou\b", re.I), "the customer"),
]


def _third_person(text: str, rules) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def _phrase(role: str, sentence: _Sentence) -> SummarySentence:
    """Reported speech in the third person ("my order" -> "their order"), the voice of ticket summaries."""
    body = sentence.text.rstrip(".!? ")
    if role in ("request", "open"):
        body = _third_person(body, _FIRST_PERSON)
    else:
        body = _third_person(body, _BUSINESS_FIRST_PERSON)
    if body[1:2].islower():
        body = body[0].lower() + body[1:]
    if role == "request":
        if sentence.text.endswith("?"):
            lead = "Customer is asking"
        elif COMPLAINT_WORDS.search(sentence.text):
            lead = "Customer is complaining that"
        else:
            lead = "Customer says that"
        text = f"{lead} {body}."
    elif role == "open":
        text = f"Still open: {body}?"
    else:
        text = f"{'Agent promised that' if role == 'promise' else 'Agent said that'} {body}."
    return SummarySentence(role, text, sentence.index, sentence.span)
