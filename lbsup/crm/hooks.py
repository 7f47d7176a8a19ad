"""Where the CRM joins the ticket flow: after triage, and when a ticket is resolved."""

from lbsup.audit.actors import ASSISTANT


def ticket_resolved(actor, ticket):
    """Every handled ticket gets a CRM note draft for its representative to review."""
    from .notes import do_draft_crm_note

    do_draft_crm_note(ASSISTANT, ticket)


def after_triage(record, message, result):
    """Recurring-issue flag for the category, and a lead for `qualify` categories."""
    from lbsup.playbooks.active import active_playbook

    from .leads import do_create_or_update_lead
    from .recurring import do_flag_recurring

    ticket = message.ticket
    ticket.refresh_from_db()
    do_flag_recurring(ticket, at=message.created_at)
    _, playbook = active_playbook(ticket.workspace)
    try:
        category = playbook.category(ticket.category)
    except KeyError:
        return
    if category.handling == "qualify":
        details = [(d.kind, d.normalized, d.source) for d in result.details]
        do_create_or_update_lead(ticket, category=category, text=f"{ticket.subject}\n{message.text}",
                                 details=details, at=message.created_at)
