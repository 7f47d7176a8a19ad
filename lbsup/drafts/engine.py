"""Runs the plain-Python drafter and guardrails for stored tickets."""

import os

from lbsup.assist.drafts import ContactFacts, draft_reply
from lbsup.assist.encoder import EncoderUnavailable, load_encoder
from lbsup.assist.guardrails import check_draft
from lbsup.assist.llm import LlmConfig, polish_draft


def llm_config():
    """The optional LLM polish, on only when LBSUP_LLM_BASE_URL and LBSUP_LLM_MODEL are set."""
    base_url, model = os.environ.get("LBSUP_LLM_BASE_URL", ""), os.environ.get("LBSUP_LLM_MODEL", "")
    if not (base_url and model):
        return None
    return LlmConfig(base_url=base_url, model=model, api_key=os.environ.get("LBSUP_LLM_API_KEY", ""),
                     timeout=float(os.environ.get("LBSUP_LLM_TIMEOUT", "15")))


def contact_facts(contact):
    return ContactFacts(name=contact.name, email=contact.primary_email,
                        phone=contact.phones[0] if contact.phones else "")


def _encoder():
    try:
        return load_encoder()
    except EncoderUnavailable:
        return None  # lexical ranking still works


def make_draft(message_input, triage_result, playbook, contact, *, reply_id=None):
    facts = contact_facts(contact)
    draft = draft_reply(message_input, triage_result, playbook, contact=facts, reply_id=reply_id, encoder=_encoder())
    return polish_draft(draft, config=llm_config(), playbook=playbook, message_text=message_input.body,
                        contact=facts)


def check_text(text, *, playbook, category, reply_id, message_text, contact, quoted_text=""):
    template = ""
    if reply_id:
        try:
            template = next(r.template for r in playbook.category(category).replies if r.id == reply_id)
        except (KeyError, StopIteration):
            template = ""
    facts = contact_facts(contact)
    return check_draft(text, playbook=playbook, category=category, reply_template=template,
                       message_text=message_text, contact=[v for v in (facts.name, facts.email, facts.phone) if v],
                       quoted_text=quoted_text)
