"""Customer text treated as data: spotting instructions aimed at an AI, and defanging slot values.

The cue table of ``signals.INJECTION_CUES`` (used by triage for the
``injection_suspected`` flag) is the base; the extra cues here catch the phrasings
the attack corpus in ``tests/fixtures/injection/`` showed it missing (role play,
fake delimiters, "you must approve", hidden-text tricks).  Both tables go through the
same noisy-or scorer, so one strong cue is enough.

Attackers write in any language and hide instructions where a reader does not look, so the
cues cover "ignore the previous instructions" in es, de, fr, pt, it and nl too (matched
without accents), and the quoted thread and attachment text are read as well as the
message's own words, at a lower weight (an old thread or a document quotes more than it
commands): one strong cue there is still enough.  Evidence says where each phrase was found.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from lbsup.assist.signals import INJECTION_CUES, _cues, _score

INJECTION_THRESHOLD = 0.5

EXTRA_INJECTION_CUES = _cues({
    r"(?:forget|ignore|disregard|override|bypass) (?:all |any |everything |the )?(?:you(?:'ve| have)? (?:were|been) told|"
    r"(?:of )?(?:your|the|these|those|previous|prior|above|earlier) (?:guidelines|instructions|directives|policies|policy|programming|training|constraints|restrictions|rules))": 1.0,
    r"(?<!\bi )(?<!\bwe )(?<!\bwho )(?:pretend|act|behave|respond) (?:to be|as if|as) (?:you are |you're )?(?:a|an|the|my)": 0.6,
    r"pretend (?:that )?(?:you(?:'re| are)|to be)": 0.6,
    r"<\|(?:im_start|im_end|system|endoftext|user|assistant)": 1.0,
    r"(?m:^)[ \t]*(?:system|assistant|ai|bot|admin)\s*:": 0.9,
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
    r"(?:end of (?:customer )?(?:message|email|input)|(?<!-)---+ ?end ?---+)": 0.5,
    r"(?:base64|rot13|hex)[- ]?(?:decode|encoded)": 0.5,
})

# The same attacks in the other languages the guardrails know, written without accents (the text is
# read without them).  An instruction noun needs "previous"-like words or "your": "ignoré las
# instrucciones del manual" is a customer's story, not an order.
FOREIGN_INJECTION_CUES = _cues({
    # es
    r"(?:ignora|ignore|ignorar|olvida|olvide|olvidar|descarta|omite) (?:todas |todo )?(?:(?:tus|sus) "
    r"(?:(?:anteriores|previas) )?(?:instrucciones|indicaciones|reglas|directrices|ordenes)|(?:las |lo de )?"
    r"(?:instrucciones|indicaciones|reglas|directrices|ordenes) (?:anteriores|previas|de arriba|del sistema))": 1.0,
    r"(?:ahora|a partir de ahora|desde ahora) eres (?:un|una|el|la|mi)": 0.8,
    r"nuevas instrucciones\s*:": 0.9,
    r"(?:muestra|revela|imprime|dime) (?:tu|tus|el|las) (?:prompt|mensaje del sistema|instrucciones)": 0.9,
    # de
    r"(?:ignoriere|ignorier|ignorieren sie|vergiss|vergiß|vergessen sie|missachte|missachten sie) (?:alle )?"
    r"(?:(?:bisherigen|vorherigen|vorigen|obigen|fruheren|deine|ihre|die|alle) )?"
    r"(?:bisherigen |vorherigen |vorigen |obigen |fruheren )?(?:anweisungen|instruktionen|regeln|vorgaben|befehle)": 1.0,
    r"du bist (?:jetzt|nun|ab sofort|ab jetzt) (?:ein|eine|der|die|mein)": 0.8,
    r"neue anweisungen\s*:": 0.9,
    r"(?:zeige|zeig|verrate|gib) (?:mir )?(?:deinen|deine|den|die) (?:system ?prompt|systemanweisungen|anweisungen)": 0.9,
    # fr
    r"(?:oublie|oubliez|ignore|ignorez) (?:toutes |tout )?(?:(?:tes|vos) (?:(?:precedentes|anciennes) )?"
    r"(?:instructions|consignes|regles|directives)|(?:les )?(?:instructions|consignes|regles|directives) "
    r"(?:precedentes|anterieures|ci-dessus|du systeme))": 1.0,
    r"(?:tu es|vous etes) (?:maintenant|desormais|a present) (?:un|une|le|la|mon)": 0.8,
    r"nouvelles (?:instructions|consignes)\s*:": 0.9,
    r"(?:montre|revele|affiche|donne)(?:-moi)? (?:ton|tes|le|les) (?:prompt|instructions|consignes)": 0.9,
    # pt
    r"(?:ignore|ignora|ignorem|esqueca|esquece|esquecam|desconsidere) (?:todas )?(?:(?:as )?(?:suas|tuas) "
    r"(?:instrucoes|regras|orientacoes)|(?:as )?(?:instrucoes|regras|orientacoes) (?:anteriores|previas|acima|do sistema))": 1.0,
    r"(?:agora voce e|voce agora e|agora es) (?:um|uma|o|a|meu)": 0.8,
    r"novas instrucoes\s*:": 0.9,
    # it
    r"(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi) (?:tutte )?(?:(?:le )?(?:tue|sue|vostre) "
    r"(?:(?:precedenti) )?(?:istruzioni|regole|direttive)|(?:le )?(?:istruzioni|regole|direttive) "
    r"(?:precedenti|di prima|sopra|del sistema))": 1.0,
    r"(?:ora|adesso) sei (?:un|una|il|la|lo|il mio)": 0.8,
    r"nuove istruzioni\s*:": 0.9,
    # nl
    r"(?:negeer|vergeet) (?:alle )?(?:(?:de|je|jouw|uw) )?(?:(?:vorige|eerdere|voorgaande|bovenstaande) )?"
    r"(?:instructies|regels|aanwijzingen|opdrachten)": 1.0,
    r"(?:je bent|jij bent) nu (?:een|de|het|mijn)": 0.8,
    r"nieuwe instructies\s*:": 0.9,
})

ALL_INJECTION_CUES = INJECTION_CUES + EXTRA_INJECTION_CUES + FOREIGN_INJECTION_CUES
# A quoted thread's or an attachment's score counts half: one unmistakable order there is still enough.
QUOTED_WEIGHT = 0.5
# Each part is read this far (the cues' quick RE2 union keeps it cheap): an order hidden after a long
# harmless preamble is still found.
MAX_SCANNED_CHARS = 100_000
MAX_SCANNED_ATTACHMENTS = 10

# Zero-width and bidi-control characters hide words from a reader while a model still reads them.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TAG = re.compile(r"<[^<>]{0,500}>")
# Characters that mean something to a template engine, a shell or markdown: never needed in a name or a date.
_TEMPLATE_SYNTAX = re.compile(r"[{}$`\\<>|]|\[\[|\]\]|%\(|\}\}")
_SPACE = re.compile(r"\s+")
_LINE_SPACE = re.compile(r"[^\S\n]+")

NAME_LIMIT = 80
VALUE_LIMIT = 200


def detect_injection(text: str, *, quoted: str = "", attachments: Sequence[tuple[str, str]] = (),
                     where: str = "body") -> tuple[str, ...]:
    """Evidence of instructions aimed at an AI, each as "where: matched words"; empty when there is none.

    `text` is the message's own words (`where` names it), `quoted` the quoted thread and
    `attachments` (name, text) pairs; the scores of the last two count at QUOTED_WEIGHT.
    """
    parts = [(where, text or "", 1.0), ("quoted", quoted or "", QUOTED_WEIGHT)]
    parts += [(f"attachment {name}", body or "", QUOTED_WEIGHT) for name, body in attachments[:MAX_SCANNED_ATTACHMENTS]]
    remaining = 1.0
    evidence: list[str] = []
    for label, part, weight in parts:
        if not part:
            continue
        raw = part[:MAX_SCANNED_CHARS]
        signal = _score(_readable_form(raw), ALL_INJECTION_CUES)
        remaining *= 1.0 - weight * signal.score
        evidence.extend(f"{label}: {words}" for words in signal.evidence)
        if _INVISIBLE.search(raw):
            evidence.append(f"{label}: invisible characters")
    if 1.0 - remaining >= INJECTION_THRESHOLD:
        return tuple(dict.fromkeys(evidence))
    return ()


def _readable_form(text: str) -> str:
    """What a model reads: invisible characters gone, accents dropped, runs of spaces made one."""
    decomposed = unicodedata.normalize("NFKD", _INVISIBLE.sub("", text))
    return _LINE_SPACE.sub(" ", "".join(c for c in decomposed if not unicodedata.combining(c)))


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
