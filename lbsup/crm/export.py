"""Streaming CSV exports, safe to open in a spreadsheet (no formula injection)."""

import csv

from lbsup.core.spreadsheet import safe_cell


class _Line:
    def write(self, value):
        return value


def csv_lines(header, rows):
    writer = csv.writer(_Line())
    yield writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([safe_cell(c) for c in row])


def contact_rows(workspace):
    from .models import Contact

    contacts = (Contact.objects.filter(workspace=workspace).select_related("company")
                .prefetch_related("emails").order_by("id"))
    for contact in contacts.iterator(chunk_size=500):
        yield [contact.pk, contact.name, " ".join(e.email for e in contact.emails.all()), " ".join(contact.phones),
               contact.company.name if contact.company else "", "yes" if contact.vip else "",
               "yes" if contact.sensitive else "", contact.flag_reason, contact.created_at.isoformat()]


CONTACT_HEADER = ["id", "name", "emails", "phones", "company", "vip", "sensitive", "flag_reason", "created_at"]


def note_header(field_names):
    return ["note", "ticket", "contact", "contact_email", "approved_by", "approved_at", *field_names, "other_fields"]


def note_rows(workspace, field_names):
    from .models import CrmNote

    notes = (CrmNote.objects.filter(workspace=workspace, state=CrmNote.State.APPROVED)
             .select_related("ticket", "contact", "approved_by").order_by("approved_at", "id"))
    for note in notes.iterator(chunk_size=500):
        values = {f["name"]: f["value"] for f in note.fields}
        other = "; ".join(f"{k}: {v}" for k, v in values.items() if k not in field_names and v)
        yield [note.pk, note.ticket.number, note.contact.name, note.contact.primary_email,
               note.approved_by.get_username() if note.approved_by else "", note.approved_at.isoformat(),
               *[values.get(name, "") for name in field_names], other]
