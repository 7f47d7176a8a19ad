"""Merging duplicate contacts (the same person writing from two addresses) in one audited step."""

from django.db import transaction

from lbsup.audit.actions import record_event
from lbsup.audit.actors import is_person

from .models import Contact, ContactEmail, CrmNote, Lead, RecurringIssue


class MergeRefused(ValueError):
    pass


@transaction.atomic
def do_merge_contacts(actor, duplicate, keep):
    """Move everything of `duplicate` (addresses, tickets, messages, notes, leads) to `keep`, then delete it.
    Flags are kept if either contact had them; nothing the duplicate knew is dropped."""
    if not is_person(actor):
        raise PermissionError("A person decides that two contacts are the same")
    if duplicate.pk == keep.pk:
        raise MergeRefused("A contact cannot be merged into itself")
    if duplicate.workspace_id != keep.workspace_id:
        raise MergeRefused("Contacts of different workspaces cannot be merged")
    from lbsup.tickets.models import Message, Ticket

    ids = sorted([duplicate.pk, keep.pk])
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(locked) != 2:
        raise MergeRefused("One of the contacts no longer exists (merged a moment ago?)")
    duplicate, keep = locked[duplicate.pk], locked[keep.pk]
    snapshot = {"name": duplicate.name, "emails": list(duplicate.emails.values_list("email", flat=True)),
                "phones": duplicate.phones, "vip": duplicate.vip, "sensitive": duplicate.sensitive,
                "flag_reason": duplicate.flag_reason, "company": duplicate.company_id}
    moved = {
        "emails": ContactEmail.objects.filter(contact=duplicate).update(contact=keep),
        "tickets": list(Ticket.objects.filter(contact=duplicate).values_list("number", flat=True)),
        "messages": Message.objects.filter(author_contact=duplicate).update(author_contact=keep),
        "crm_notes": CrmNote.objects.filter(contact=duplicate).update(contact=keep),
        "leads": Lead.objects.filter(contact=duplicate).update(contact=keep),
        "recurring_issues": RecurringIssue.objects.filter(contact=duplicate).update(contact=keep),
    }
    Ticket.objects.filter(contact=duplicate).update(contact=keep)
    keep.phones = list(dict.fromkeys([*keep.phones, *duplicate.phones]))
    keep.name = keep.name or duplicate.name
    keep.company_id = keep.company_id or duplicate.company_id
    if duplicate.vip or duplicate.sensitive:
        reasons = [r for r in (keep.flag_reason, duplicate.flag_reason) if r]
        keep.vip, keep.sensitive = keep.vip or duplicate.vip, keep.sensitive or duplicate.sensitive
        keep.flag_reason = "\n".join(dict.fromkeys(reasons))
    keep.save(update_fields=["phones", "name", "company", "vip", "sensitive", "flag_reason"])
    duplicate_pk = duplicate.pk
    duplicate.delete()
    record_event(keep.workspace, actor, "contact.merged", keep, merged_contact=duplicate_pk, merged=snapshot,
                 moved=moved)
    from lbsup.webhooks.actions import do_emit

    do_emit(keep.workspace, "contact.merged", {"kept": keep.pk, "merged": duplicate_pk,
                                               "emails": list(keep.emails.values_list("email", flat=True))})
    return keep
