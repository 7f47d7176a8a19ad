from django.db import IntegrityError, transaction

from lbsup.audit.actions import record_event
from lbsup.core.rows import insert_row

from .models import Company, Contact, ContactEmail


def normalize_email(email):
    return (email or "").strip().lower()


@transaction.atomic
def do_create_company(actor, workspace, *, name, domain=""):
    company = Company.objects.create(workspace=workspace, name=name, domain=domain.strip().lower())
    record_event(workspace, actor, "company.created", company, name=name)
    return company


@transaction.atomic
def do_create_contact(actor, workspace, *, name="", emails=(), phones=(), company=None):
    if company is not None and company.workspace_id != workspace.id:
        raise ValueError("The company belongs to another workspace")
    contact = insert_row(Contact(workspace=workspace, name=name, phones=list(phones), company=company))
    for email in emails:
        insert_row(ContactEmail(workspace=workspace, contact=contact, email=normalize_email(email)))
    record_event(workspace, actor, "contact.created", contact, name=name, emails=[normalize_email(e) for e in emails])
    return contact


def do_find_or_create_contact(actor, workspace, email, name=""):
    """The contact who owns this address in this workspace, created on first contact.
    Mail from a known company domain joins that company."""
    email = normalize_email(email)
    existing = ContactEmail.objects.filter(workspace=workspace, email=email).select_related("contact").first()
    if existing:
        return existing.contact
    domain = email.rpartition("@")[2]
    company = Company.objects.filter(workspace=workspace, domain=domain).first() if domain else None
    try:
        with transaction.atomic():
            return do_create_contact(actor, workspace, name=name, emails=[email] if email else [], company=company)
    except IntegrityError:
        # Another worker created it between our lookup and insert.
        return ContactEmail.objects.get(workspace=workspace, email=email).contact


@transaction.atomic
def do_set_contact_flags(actor, contact, *, vip, sensitive, reason):
    if (vip or sensitive) and not reason.strip():
        raise ValueError("Flagging a contact vip or sensitive needs a reason")
    before = {"vip": contact.vip, "sensitive": contact.sensitive}
    contact.vip, contact.sensitive, contact.flag_reason = vip, sensitive, reason.strip()
    contact.save(update_fields=["vip", "sensitive", "flag_reason"])
    record_event(contact.workspace, actor, "contact.flags_changed", contact, before=before, vip=vip, sensitive=sensitive, reason=reason)
    return contact


# The rest lives in one module per area; re-exported so callers import every CRM write from here.
from .leads import do_change_lead_stage, do_create_or_update_lead, do_update_lead  # noqa: E402,F401
from .merge import do_merge_contacts  # noqa: E402,F401
from .notes import (  # noqa: E402,F401
    do_approve_crm_note,
    do_discard_crm_note,
    do_draft_crm_note,
    do_review_crm_note,
)
from .recurring import do_flag_recurring  # noqa: E402,F401
