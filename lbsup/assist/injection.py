"""Customer text treated as data: spotting instructions aimed at an AI, and defanging slot values.

The cue table of ``signals.INJECTION_CUES`` (used by triage for the
``injection_suspected`` flag) is the base; the extra cues here catch the phrasings
the attack corpus in ``tests/fixtures/injection/`` showed it missing (role play,
fake delimiters, "you must approve", hidden-text tricks).  Both tables go through the
same noisy-or scorer, so one strong cue is enough.
"""

from __future__ import annotations

import re
import unicodedata

from lbsup.assist.signals import INJECTION_CUES, _cues, _score

INJECTION_THRESHOLD = 0.5

EXTRA_INJECTION_CUES = _cues({
    r"(?:forget|ignore|disregard|override|bypass) (?:all |any |everything |the )?(?:you(?:'ve| have)? (?:were|been) told|"
    r"(?:of )?(?:your|the|these|those|previous|prior|above|earlier) (?:guidelines|instructions|directives|policies|policy|programming|training|constraints|restrictions|rules))": 1.0,
    r"(?<!\bi )(?<!\bwe )(?<!\bwho )(?:pretend|act|behave|respond) (?:to be|as if|as) (?:you are |you're )?(?:a|an|the|my)": 0.6,
    r"pretend (?:that )?(?:you(?:'re| are)|to be)": 0.6,
    r"<\|(?:im_start|im_end|system|endoftext|user|assistant)": 1.0,
    r"(?m:^)\s*(?:system|assistant|ai|bot|admin)\s*:": 0.9,
    r"(?:system|admin|assistant)\s*:\s*(?:ignore|approve|issue|grant|you|override|mark|set|refund|give)": 0.9,
    r"as an? (?:ai|language model|assistant|llm|chatbot|bot)\b": 0.6,
    r"(?:dear|attention|note to|hey|hi|hello) (?:ai|assistant|chatbot|bot|gpt|llm|model|language model)\b": 0.7,
    r"(?:\[/?inst\]|\[/?system\]|<<\s*/?sys\s*>>|###\s*(?:instruction|system|response)|</?system>|"
    r"begin (?:system|admin) (?:prompt|message|override))": 1.0,
    r"(?:admin|administrator|developer|root|sudo|god) (?:mode|override|access|command)": 0.8,
    r"(?:you (?:must|will|should|shall|have to)|i (?:order|command|instruct) you to) "
    r"(?:now )?(?:approve|issue|grant|give|send|offer|include|promise|write|reply|respond|say|confirm|mark|add)": 0.7,
    r"(?:your|the) (?:reply|response|answer|draft) (?:must|should|will) (?:say|include|contain|state|promise|confirm|offer)": 0.8,
    r"(?:include|add|put|insert) (?:this|the following|these words) (?:in|into) (?:your|the) (?:reply|response|draft|answer)": 0.8,
    r"(?:approve|authori[sz]e|issue|grant|apply) (?:a |an |my |the )?(?:full |immediate |100% )?"
    r"(?:refund|discount|credit|compensation|voucher|reimbursement)s?\b(?: of| for| to| immediately| now)": 0.5,
    r"(?:system|admin|developer|assistant) (?:prompt|message|note|override|instruction)s?\s*[:\-]": 0.9,
    r"(?:repeat|print|output|reveal|leak|tell me) (?:your|the) (?:instructions|rules|prompt|configuration|guidelines)": 0.9,
    r"(?:do not|don't) (?:tell|inform|alert|notify|escalate to|flag (?:this )?(?:to|for)) (?:a |the |any )?(?:human|person|staff|agent|manager|representative)": 0.8,
    r"(?:without|skip|bypass) (?:human |manual |any )?(?:review|approval|escalation|verification)": 0.6,
    r"(?:the )?(?:above|previous) (?:was|is) (?:a test|fake|not real)": 0.6,
    r"(?:end of (?:customer )?(?:message|email|input)|---+ ?end ?---+)": 0.5,
    r"(?:base64|rot13|hex)[- ]?(?:decode|encoded)": 0.5,
})

ALL_INJECTION_CUES = INJECTION_CUES + EXTRA_INJECTION_CUES

# Zero-width and bidi-control characters hide words from a reader while a model still reads them.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TAG = re.compile(r"<[^<>]{0,500}>")
# Characters that mean something to a template engine, a shell or markdown: never needed in a name or a date.
_TEMPLATE_SYNTAX = re.compile(r"[{}$`\\<>|]|\[\[|\]\]|%\(|\}\}")
_SPACE = re.compile(r"\s+")

NAME_LIMIT = 80
VALUE_LIMIT = 200


def detect_injection(text: str) -> tuple[str, ...]:
    """Evidence (the matched words) of instructions aimed at an AI; empty when there is none."""
    if not text:
        return ()
    sample = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text[:20_000]))
    signal = _score(sample, ALL_INJECTION_CUES)
    evidence = list(signal.evidence)
    if _INVISIBLE.search(text[:20_000]):
        evidence.append("invisible characters")
    if signal.score >= INJECTION_THRESHOLD:
        return tuple(dict.fromkeys(evidence))
    return ()


def neutralize(value: object, limit: int = VALUE_LIMIT) -> str:
    """A customer-supplied value made safe to insert literally into a reply.

    Markup and template syntax are removed rather than escaped: the reply is plain text,
    and an escaped ``{__class__}`` would still read as an instruction to a later step.
    """
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFKC", text[: limit * 20])
    text = _INVISIBLE.sub("", text)
    text = _TAG.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    text = _TEMPLATE_SYNTAX.sub(" ", text)
    text = _SPACE.sub(" ", text).strip(" .,;:-")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
