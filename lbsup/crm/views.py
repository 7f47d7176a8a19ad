import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from lbsup.tickets.models import Ticket
from lbsup.workspaces.access import membership_or_404
from lbsup.workspaces.models import Role

from .actions import (
    do_approve_crm_note,
    do_change_lead_stage,
    do_discard_crm_note,
    do_draft_crm_note,
    do_merge_contacts,
    do_review_crm_note,
    do_set_contact_flags,
    do_update_contact,
)
from .export import CONTACT_HEADER, contact_rows, csv_lines, note_header, note_rows
from .models import Company, Contact, CrmNote, Lead
from .notes import note_fields_for
from .timeline import contact_timeline

PAGE_SIZE = 50
EXPORT_ROLES = (Role.ADMIN, Role.LEAD)


@login_required
def contact_list(request, slug):
    membership = membership_or_404(request.user, slug)
    contacts = Contact.objects.filter(workspace=membership.workspace).select_related("company").order_by("name", "id")
    query = request.GET.get("q", "").strip()[:200]
    if query:
        contacts = contacts.filter(Q(name__icontains=query) | Q(emails__email__icontains=query)).distinct()
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/contact_list.html", {"workspace": membership.workspace, "membership": membership,
                                                     "page": page, "q": query,
                                                     "can_export": membership.role in EXPORT_ROLES})


@login_required
def contact_detail(request, slug, pk):
    from lbsup.followups.desk import open_followups

    membership = membership_or_404(request.user, slug)
    contact = get_object_or_404(Contact.objects.select_related("company"), workspace=membership.workspace, pk=pk)
    others = Contact.objects.filter(workspace=membership.workspace).exclude(pk=pk).order_by("name", "id")[:500]
    return render(request, "crm/contact_detail.html", {
        "workspace": membership.workspace, "membership": membership, "contact": contact,
        "timeline": contact_timeline(contact), "others": others,
        "recurring": contact.recurring_issues.all()[:10], "followups": open_followups(contact=contact),
        "leads": contact.leads.all(), "draft_notes": contact.crm_notes.filter(state=CrmNote.State.DRAFT),
        "companies": Company.objects.filter(workspace=membership.workspace).order_by("name")[:500],
    })


@login_required
@require_POST
def contact_edit(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    contact = get_object_or_404(Contact, workspace=membership.workspace, pk=pk)
    company_id = request.POST.get("company", "")
    company = None
    if company_id:
        company = get_object_or_404(Company, workspace=membership.workspace, pk=company_id if company_id.isdigit() else 0)
    try:
        do_update_contact(request.user, contact, name=request.POST.get("name", ""),
                          emails=re.split(r"[\s,;]+", request.POST.get("emails", "")[:10_000]),
                          phones=request.POST.get("phones", "")[:5_000].splitlines(), company=company)
        messages.success(request, "Contact saved.")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("crm_contact", slug=slug, pk=pk)


@login_required
@require_POST
def contact_flags(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    contact = get_object_or_404(Contact, workspace=membership.workspace, pk=pk)
    try:
        do_set_contact_flags(request.user, contact, vip="vip" in request.POST, sensitive="sensitive" in request.POST,
                             reason=request.POST.get("reason", "")[:2000])
        messages.success(request, "Flags saved.")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("crm_contact", slug=slug, pk=pk)


@login_required
@require_POST
def contact_merge(request, slug, pk):
    """Merge this contact (the duplicate) into the chosen one; an id from another workspace is a 404."""
    membership = membership_or_404(request.user, slug)
    duplicate = get_object_or_404(Contact, workspace=membership.workspace, pk=pk)
    try:
        into_pk = int(request.POST.get("into", ""))
    except ValueError:
        messages.error(request, "Choose the contact to keep.")
        return redirect("crm_contact", slug=slug, pk=pk)
    keep = get_object_or_404(Contact, workspace=membership.workspace, pk=into_pk)
    try:
        do_merge_contacts(request.user, duplicate, keep)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("crm_contact", slug=slug, pk=pk)
    messages.success(request, "Contacts merged.")
    return redirect("crm_contact", slug=slug, pk=keep.pk)


def _csv_response(lines, filename):
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def contacts_csv(request, slug):
    membership = membership_or_404(request.user, slug, roles=EXPORT_ROLES)
    return _csv_response(csv_lines(CONTACT_HEADER, contact_rows(membership.workspace)),
                         f"{slug}-contacts.csv")


@login_required
def notes_csv(request, slug):
    membership = membership_or_404(request.user, slug, roles=EXPORT_ROLES)
    names = list(note_fields_for(membership.workspace))
    return _csv_response(csv_lines(note_header(names), note_rows(membership.workspace, names)),
                         f"{slug}-crm-notes.csv")


@login_required
def note_list(request, slug):
    membership = membership_or_404(request.user, slug)
    notes = CrmNote.objects.filter(workspace=membership.workspace).select_related("ticket", "contact")
    state = request.GET.get("state", CrmNote.State.DRAFT)
    if state in CrmNote.State.values:
        notes = notes.filter(state=state)
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/note_list.html", {"workspace": membership.workspace, "membership": membership,
                                                  "page": page, "state": state, "states": CrmNote.State.choices,
                                                  "can_export": membership.role in EXPORT_ROLES})


@login_required
def note_review(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    note = get_object_or_404(CrmNote.objects.select_related("ticket", "contact"), workspace=membership.workspace,
                             pk=pk)
    if request.method == "POST":
        values = {f["name"]: request.POST.get(f"value-{f['name']}", f["value"]) for f in note.fields}
        reviewed = [f["name"] for f in note.fields if request.POST.get(f"reviewed-{f['name']}")]
        action = request.POST.get("action", "save")
        try:
            if action == "approve":
                do_approve_crm_note(request.user, note, values=values, reviewed=reviewed)
                messages.success(request, "Note approved: it is part of the contact's record now.")
                return redirect("crm_contact", slug=slug, pk=note.contact_id)
            if action == "discard":
                do_discard_crm_note(request.user, note, reason=request.POST.get("reason", ""))
                messages.success(request, "Note discarded.")
                return redirect("crm_notes", slug=slug)
            do_review_crm_note(request.user, note, values=values, reviewed=reviewed)
            messages.success(request, "Saved.")
        except ValueError as error:
            messages.error(request, str(error))
        return redirect("crm_note", slug=slug, pk=pk)
    return render(request, "crm/note_review.html", {"workspace": membership.workspace, "membership": membership,
                                                    "note": note})


@login_required
@require_POST
def draft_note(request, slug, number):
    membership = membership_or_404(request.user, slug)
    ticket = get_object_or_404(Ticket, workspace=membership.workspace, number=number)
    note = do_draft_crm_note(request.user, ticket)
    return redirect("crm_note", slug=slug, pk=note.pk)


@login_required
def lead_list(request, slug):
    membership = membership_or_404(request.user, slug)
    leads = Lead.objects.filter(workspace=membership.workspace).select_related("ticket", "contact", "team", "owner")
    stage = request.GET.get("stage", "")
    if stage in Lead.Stage.values:
        leads = leads.filter(stage=stage)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crm/lead_list.html", {"workspace": membership.workspace, "membership": membership,
                                                  "page": page, "stage": stage, "stages": Lead.Stage.choices})


@login_required
@require_POST
def lead_stage(request, slug, pk):
    membership = membership_or_404(request.user, slug)
    lead = get_object_or_404(Lead, workspace=membership.workspace, pk=pk)
    try:
        do_change_lead_stage(request.user, lead, request.POST.get("stage", ""),
                             reason=request.POST.get("reason", "")[:300])
        messages.success(request, "Stage changed.")
    except ValueError as error:
        messages.error(request, str(error))
    return redirect("crm_leads", slug=slug)
