"""Business-independent signals read from a customer's words: each returns a score and its evidence.

Scores combine weighted cues with a noisy-or (1 - prod(1 - w)), so one strong cue is
enough and several weak ones add up without passing 1.  A plain sentiment lexicon
misses sarcasm ("Oh great, just wonderful") and repeat-contact frustration
("still not resolved, same error"), so those phrasings are cues of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import re2

from lbsup.assist.re2_options import re2_options
from lbsup.assist.results import AutoReply, Signal

_NEGATION = re.compile(r"\b(?:no|not|never|without|zero)\s+(?:\w+\s+)?$", re.IGNORECASE)
_LOOKAROUND = re.compile(r"\(\?<?[!=](?:[^()]|\([^()]*\))*\)")
_CLASS_ESCAPE = re.compile(r"\\[wsd]")
_ESCAPE_IN_BRACKETS = re.compile(r"\[[^\[\]]*\\[wsd]")  # from the last "[": one scan per bracket
_RE2_OPTIONS = re2_options()
_RE2_OPTIONS.case_sensitive = False


class Cues(tuple):
    """(pattern, weight) pairs, and `anywhere`: one RE2 pattern that matches wherever any of them could.

    Python's re tries each cue at every position (their (?<!\\w) guard defeats its fast literal
    search): 0.65 ms a message for all tables, a tenth of a triage's own work.  Most messages match
    no cue of a table, which RE2's single pass over the union tells in 0.03 ms.  The union is looser
    than the cues (lookarounds and \\b dropped; \\w, \\s, \\d widened to any character, since RE2's
    are ASCII-only), so it never misses a match; the cues still decide what counts.
    """

    anywhere: "re2._Regexp | None"

    def __new__(cls, pairs):
        cues = super().__new__(cls, pairs)
        try:
            union = "|".join(f"(?:{_loosened(pattern.pattern)})" for pattern, _ in cues)
            cues.anywhere = re2.compile(union, _RE2_OPTIONS) if cues else None
        except re2.error:
            cues.anywhere = None  # checked cue by cue, as before
        return cues

    def __add__(self, other):
        return Cues(tuple(self) + tuple(other))


def _loosened(pattern: str) -> str:
    if _ESCAPE_IN_BRACKETS.search(pattern):  # [\s,] cannot be widened by the substitution below
        raise re2.error("a class escape inside brackets")
    pattern = _LOOKAROUND.sub("", pattern).replace(r"\b", "")
    return _CLASS_ESCAPE.sub(r"(?s:.)", pattern)


def _cues(table: dict[str, float]) -> Cues:
    return Cues((re.compile(rf"(?<!\w){pattern}(?!\w)", re.IGNORECASE), weight) for pattern, weight in table.items())


COMPLAINT_CUES = _cues({
    r"complain(?:t|ts|ing)?": 0.6, r"unacceptable": 0.6, r"disappointed|disappointing": 0.5,
    r"terrible|horrible|awful|appalling|disgusting": 0.55, r"worst": 0.55, r"rude(?:ly|ness)?": 0.55,
    r"unprofessional": 0.55, r"not happy|unhappy|dissatisfied": 0.5, r"poor (?:service|quality|experience)": 0.5,
    r"ridiculous|outrageous|absurd": 0.45, r"never again|will not be (?:back|returning)": 0.5,
    r"overcharged|charged (?:me )?twice|double[- ]charged": 0.5, r"scam|rip(?:ped)?[- ]off": 0.55,
    r"waste of (?:time|money)": 0.5, r"broken|damaged|defective|cracked": 0.3, r"wrong (?:item|order|size|color)": 0.35,
    r"refund": 0.2, r"mistake|error": 0.15, r"manager|supervisor": 0.3, r"bad (?:review|experience)": 0.45,
    r"(?:one|1)[- ]star": 0.5, r"reviews? everywhere|leave a review": 0.35, r"lawyer|attorney|sue|legal action": 0.5,
    r"(?:hurt|hurts|pain) (?:after|since|from) (?:my|the) (?:visit|appointment|procedure|cleaning|filling)": 0.45,
    r"botched|messed up": 0.5,
})

FRUSTRATION_CUES = _cues({
    r"(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\d+(?:th)?) time": 0.5, r"again": 0.2, r"still": 0.3,
    r"nobody|no one|no-one": 0.4, r"how many times": 0.6, r"already (?:told|called|emailed|sent|asked)": 0.45,
    r"(?:not|never|wasn't|isn't|hasn't been) (?:resolved|fixed|solved)": 0.5, r"same (?:error|problem|issue)": 0.45,
    r"still waiting|keep waiting|waiting for (?:weeks|days|ages)": 0.5, r"for (?:weeks|days|ages|months)": 0.3,
    r"no (?:response|reply|answer|one got back)": 0.45, r"ignored|ignoring": 0.45, r"keep (?:getting|telling|saying)": 0.4,
    r"fed up|sick of|tired of|had enough": 0.6, r"frustrat\w*|annoy\w*|furious|angry|livid|pissed": 0.55,
    r"ridiculous|unacceptable|absurd": 0.4, r"seriously\??": 0.3, r"come on": 0.3, r"useless": 0.5,
    r"wtf|wth": 0.5, r"(?:what|why) is taking so long|taking forever": 0.5,
})

# Sarcasm: praise words in a complaint frame.  Each is weighted as frustration.
SARCASM_CUES = _cues({
    r"oh (?:great|wonderful|perfect|fantastic|lovely|joy|good)": 0.55, r"just (?:great|wonderful|perfect|fantastic|lovely)": 0.5,
    r"thanks for nothing": 0.7, r"yeah,? right": 0.5, r"(?:love|loving) how": 0.45, r"so helpful(?!\s+(?:and|thanks))": 0.25,
    r"(?:great|amazing|fantastic|stellar|wonderful) (?:job|service|customer service)[.!]*\s*(?:not|/s)": 0.6,
    r"/s": 0.5, r"what a (?:joke|surprise)": 0.55, r"(?:clap|slow clap)": 0.4, r"bravo": 0.3,
})

URGENT_CUES = _cues({
    r"emergency": 0.8, r"(?:severe|terrible|unbearable|excruciating|awful) pain": 0.9, r"bleeding|bleeds": 0.8,
    r"swell(?:ing|ed|en)|swollen": 0.75, r"knocked out|broke(?:n)? (?:a |my )?tooth|cracked tooth": 0.75,
    r"can'?t (?:breathe|swallow|open my mouth|sleep)": 0.85, r"fever": 0.6, r"abscess|infection|pus": 0.7,
    r"accident|injur(?:y|ed)": 0.7, r"urgent(?:ly)?": 0.6, r"asap|a\.s\.a\.p\.?": 0.55,
    r"immediately|right away|right now": 0.55, r"pain|hurts?|aching|ache": 0.45,
})
SOON_CUES = _cues({
    r"today|tonight|this (?:morning|afternoon|evening)": 0.4, r"tomorrow": 0.3, r"deadline": 0.45,
    r"by (?:end of day|eod|monday|tuesday|wednesday|thursday|friday|saturday|sunday|noon|tomorrow)": 0.45,
    r"before (?:my|the) (?:trip|flight|wedding|event|move|deadline)": 0.4, r"soon as possible|quickly": 0.35,
    r"time[- ]sensitive": 0.5, r"running out of time|last day": 0.45,
})
RELAXED_CUES = _cues({
    r"no rush|no hurry|whenever (?:you|is) (?:can|convenient)|not urgent|at your convenience|when you get a chance": 1.0,
})

AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?reply|out of (?:the )?office|ooo\b|autoreply|away from (?:the )?office|"
    r"undeliverable|delivery status notification|mail delivery failed|returned mail)", re.IGNORECASE)
AUTO_REPLY_BODY = _cues({
    r"i am (?:currently )?(?:out of (?:the )?office|away|on (?:vacation|holiday|leave))": 1.0,
    r"i'?m (?:currently )?(?:out of (?:the )?office|away from|on (?:vacation|holiday|leave))": 1.0,
    r"this is an? (?:automated|automatic) (?:reply|response|message)": 1.0, r"auto-?generated": 0.6,
    r"(?:limited|no) access to (?:my )?e-?mail": 0.7, r"will (?:respond|reply|get back to you) (?:upon|when i|after) (?:my )?return": 1.0,
    r"do not reply to this (?:e-?mail|message)": 0.6, r"delivery (?:has )?failed|could not be delivered": 1.0,
})
AUTO_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)@", re.IGNORECASE)

INJECTION_CUES = _cues({
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|your) (?:instructions|prompts?|rules|messages)": 1.0,
    r"disregard (?:all |any )?(?:the )?(?:previous|prior|above|your) (?:instructions|prompts?|rules)": 1.0,
    r"(?:^|\n)[ \t]*(?:system|assistant)\s*:": 0.9, r"you are now (?:a|an|in)": 0.8, r"new instructions\s*:": 0.9,
    r"(?:reveal|print|show) (?:your|the) (?:system )?prompt": 0.9, r"<\|?(?:im_start|im_end|system)\|?>": 1.0,
    r"jailbreak|developer mode|do anything now": 0.8, r"(?:mark|classify|set) (?:this|me|my ticket) as (?:vip|urgent|resolved)": 0.6,
    r"(?:approve|issue|grant) (?:a |my |the )?(?:full )?refund (?:immediately|now|without)": 0.5,
    r"override (?:the )?(?:rules|policy|escalation)": 0.8,
})

LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "ru", "uk", "tr", "ar", "zh", "ja", "ko", "vi",
             "hi", "tl", "sv", "da", "no", "fi", "cs", "ro", "el", "he", "id", "th")
UNDETERMINED = "und"


@dataclass(frozen=True)
class Signals:
    complaint: Signal
    frustration: Signal
    urgency: str
    urgency_evidence: tuple[str, ...]
    language: str
    auto_reply: AutoReply
    injection: Signal


def _score(text: str, cues: Cues, *, negatable: bool = False) -> Signal:
    if cues.anywhere is not None and not cues.anywhere.search(text):
        return Signal(0.0)
    remaining = 1.0
    evidence: list[str] = []
    for pattern, weight in cues:
        for match in pattern.finditer(text):
            if negatable and _NEGATION.search(text[max(0, match.start() - 20): match.start()]):
                continue
            remaining *= 1.0 - weight
            evidence.append(match.group(0))
            break
    return Signal(round(1.0 - remaining, 4), tuple(dict.fromkeys(evidence)))


def _shouting(text: str) -> Signal:
    evidence = []
    weight = 0.0
    caps = [w for w in re.findall(r"\b[A-Z]{3,}\b", text) if w not in {"ASAP", "USA", "FAQ", "ID", "PDF", "CEO", "UPS", "DHL"}]
    if len(caps) >= 2:
        weight = max(weight, min(0.6, 0.15 * len(caps)))
        evidence.extend(caps[:5])
    bangs = re.findall(r"[!?]*!{2,}[!?]*|\?!+|!\?+", text)
    if bangs:
        weight = 1 - (1 - weight) * (1 - min(0.5, 0.25 * len(bangs)))
        evidence.append(bangs[0])
    return Signal(weight, tuple(evidence))


def _combine(*signals: Signal) -> Signal:
    remaining = 1.0
    evidence: list[str] = []
    for signal in signals:
        remaining *= 1.0 - signal.score
        evidence.extend(signal.evidence)
    return Signal(round(1.0 - remaining, 4), tuple(dict.fromkeys(evidence)))


def complaint_signal(text: str) -> Signal:
    return _score(text, COMPLAINT_CUES, negatable=True)


def frustration_signal(text: str, earlier_unanswered: int = 0) -> Signal:
    """Frustration from the words, shouting, sarcasm and how often the customer already wrote."""
    repeat = Signal(min(0.6, 0.25 * earlier_unanswered), (f"{earlier_unanswered} earlier messages",)) \
        if earlier_unanswered else Signal(0.0)
    return _combine(_score(text, FRUSTRATION_CUES, negatable=True), _score(text, SARCASM_CUES), _shouting(text), repeat)


def urgency_signal(text: str) -> tuple[str, tuple[str, ...]]:
    relaxed = _score(text, RELAXED_CUES)
    urgent = _score(text, URGENT_CUES, negatable=True)
    soon = _score(text, SOON_CUES)
    combined = _combine(urgent, soon)
    if urgent.score >= 0.75:
        return "urgent", urgent.evidence + soon.evidence
    if combined.score >= 0.5:
        return "high", combined.evidence
    if relaxed.score and not combined.score:
        return "low", relaxed.evidence
    return "normal", combined.evidence


def auto_reply_signal(subject: str, body: str, sender_email: str = "") -> AutoReply:
    if AUTO_SENDERS.search(sender_email or ""):
        return AutoReply(True, "sent by an automatic mailbox", (sender_email,))
    subject_match = AUTO_REPLY_SUBJECT.search(subject or "")
    if subject_match:
        return AutoReply(True, "subject says it is an automatic reply", (subject_match.group(0).strip(),))
    body_signal = _score(body[:3000], AUTO_REPLY_BODY)
    if body_signal.score >= 0.9:
        return AutoReply(True, "text reads as an out-of-office or bounce", body_signal.evidence)
    return AutoReply(False)


def injection_signal(text: str) -> Signal:
    """Instructions aimed at an AI inside customer text; reported, never obeyed."""
    return _score(text, INJECTION_CUES)


@lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code, or 'und' when the text is too short or mixed to tell."""
    sample = text[:2000]
    if len(re.findall(r"\w+", sample)) < 3:
        return UNDETERMINED
    language, probability = _language_identifier().classify(sample)
    return language if probability >= 0.5 else UNDETERMINED


def read_signals(subject: str, body: str, sender_email: str = "", earlier_unanswered: int = 0) -> Signals:
    text = f"{subject}\n{body}" if subject else body
    urgency, urgency_evidence = urgency_signal(text)
    return Signals(
        complaint=complaint_signal(text),
        frustration=frustration_signal(text, earlier_unanswered),
        urgency=urgency,
        urgency_evidence=urgency_evidence,
        language=detect_language(text),
        auto_reply=auto_reply_signal(subject, body, sender_email),
        injection=injection_signal(text),
    )
