from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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


MAX_PHONES, MAX_EMAILS = 20, 20
KEEP = object()  # a field do_update_contact leaves as it is


@transaction.atomic
def do_update_contact(actor, contact, *, name=KEEP, emails=KEEP, phones=KEEP, company=KEEP):
    """A person corrects a contact: name, addresses, phone numbers, company.  An address that
    stays keeps its history (bounces); one that belongs to another contact is refused, since the
    two are one person to merge.  Every change is audited with what it was before."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    workspace = contact.workspace
    before, after = {}, {}
    if name is not KEEP:
        name = " ".join(str(name).split())[:200]  # one line: it goes into the To header of replies
        if name != contact.name:
            before["name"], after["name"] = contact.name, name
            contact.name = name
    if phones is not KEEP:
        phones = [" ".join(str(p).split()) for p in phones]
        phones = list(dict.fromkeys(p for p in phones if p))
        if len(phones) > MAX_PHONES or any(len(p) > 50 for p in phones):
            raise ValueError(f"Give at most {MAX_PHONES} phone numbers of up to 50 characters")
        if phones != contact.phones:
            before["phones"], after["phones"] = contact.phones, phones
            contact.phones = phones
    if company is not KEEP:
        if company is not None and company.workspace_id != workspace.id:
            raise ValueError("The company belongs to another workspace")
        if company != contact.company:
            before["company"], after["company"] = contact.company_id, company.pk if company else None
            contact.company = company
    if emails is not KEEP:
        _replace_emails(contact, emails, before, after)
    if not after:
        return contact
    contact.save(update_fields=[f for f in ("name", "phones", "company") if f in after])
    record_event(workspace, actor, "contact.updated", contact, before=before, after=after)
    return contact


def _replace_emails(contact, emails, before, after):
    wanted = list(dict.fromkeys(normalize_email(e) for e in emails if normalize_email(e)))
    if len(wanted) > MAX_EMAILS:
        raise ValueError(f"Give at most {MAX_EMAILS} addresses")
    for email in wanted:
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(f"{email!r} is not an email address") from None
    if not wanted and contact.tickets.exists():
        raise ValueError("A contact with tickets needs an address: replies go to it")
    current = list(contact.emails.order_by("id").values_list("email", flat=True))
    if wanted == current:
        return
    taken = ContactEmail.objects.filter(workspace=contact.workspace, email__in=wanted).exclude(contact=contact) \
        .select_related("contact").first()
    if taken:
        raise ValueError(f"{taken.email} belongs to {taken.contact}: merge the two contacts instead")
    contact.emails.exclude(email__in=wanted).delete()
    for email in wanted:
        if email not in current:
            insert_row(ContactEmail(workspace=contact.workspace, contact=contact, email=email))
    before["emails"], after["emails"] = current, wanted


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
