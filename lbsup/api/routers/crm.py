from django.db import IntegrityError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.responses import Status as Reply

from lbsup.crm.actions import do_create_company, do_create_contact
from lbsup.crm.models import Company, Contact

from .. import schemas, serialize
from ..auth import desk
from ..errors import ApiError
from ..pagination import DEFAULT_LIMIT, MAX_LIMIT, cursor_param, page
from .common import ObjectId, OptionalId, WorkspaceSlug, cached_read, responses

router = Router(tags=["contacts and companies"])


class ContactPage(Schema):
    results: list[schemas.Contact]
    next_cursor: str | None


class CompanyPage(Schema):
    results: list[schemas.Company]
    next_cursor: str | None


def contacts_of(workspace):
    return Contact.objects.filter(workspace=workspace).select_related("company").prefetch_related("emails")


@router.get("/contacts", response=responses(ContactPage), auth=desk, operation_id="list_contacts")
@cached_read
def list_contacts(request, slug: WorkspaceSlug, q: str | None = Query(None, max_length=200),
                  company_id: OptionalId = None, cursor: str | None = cursor_param(),
                  limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    contacts = contacts_of(request.auth.workspace)
    if q and q.strip():
        contacts = contacts.filter(Q(name__icontains=q.strip()) | Q(emails__email__icontains=q.strip())).distinct()
    if company_id is not None:
        contacts = contacts.filter(company_id=company_id)
    return page(contacts, cursor=cursor, limit=limit, serialize=serialize.contact)


@router.get("/contacts/{contact_id}", response=responses(schemas.Contact), auth=desk, operation_id="get_contact")
@cached_read
def get_contact(request, slug: WorkspaceSlug, contact_id: ObjectId):
    return serialize.contact(get_object_or_404(contacts_of(request.auth.workspace), pk=contact_id))


@router.post("/contacts", response=responses(schemas.Contact, status=201, extra=(409,)), auth=desk,
             operation_id="create_contact")
def create_contact(request, slug: WorkspaceSlug, payload: schemas.ContactIn):
    workspace = request.auth.workspace
    company = None
    if payload.company_id is not None:
        company = Company.objects.filter(workspace=workspace, pk=payload.company_id).first()
        if company is None:
            raise ApiError(422, "No such company in this workspace", code="unknown_company")
    try:
        contact = do_create_contact(request.auth.actor, workspace, name=payload.name, emails=payload.emails,
                                    phones=payload.phones, company=company)
    except IntegrityError:
        raise ApiError(409, "One of these addresses already belongs to a contact", code="email_taken")
    return Reply(201, serialize.contact(contacts_of(workspace).get(pk=contact.pk)))


@router.get("/companies", response=responses(CompanyPage), auth=desk, operation_id="list_companies")
@cached_read
def list_companies(request, slug: WorkspaceSlug, q: str | None = Query(None, max_length=200),
                   cursor: str | None = cursor_param(),
                   limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    companies = Company.objects.filter(workspace=request.auth.workspace)
    if q and q.strip():
        companies = companies.filter(Q(name__icontains=q.strip()) | Q(domain__icontains=q.strip()))
    return page(companies, cursor=cursor, limit=limit, serialize=serialize.company)


@router.get("/companies/{company_id}", response=responses(schemas.Company), auth=desk, operation_id="get_company")
@cached_read
def get_company(request, slug: WorkspaceSlug, company_id: ObjectId):
    return serialize.company(get_object_or_404(Company, workspace=request.auth.workspace, pk=company_id))


@router.post("/companies", response=responses(schemas.Company, status=201, extra=(409,)), auth=desk,
             operation_id="create_company")
def create_company(request, slug: WorkspaceSlug, payload: schemas.CompanyIn):
    if not payload.name.strip():
        raise ApiError(422, "A company needs a name")
    try:
        company = do_create_company(request.auth.actor, request.auth.workspace, name=payload.name.strip(),
                                    domain=payload.domain)
    except IntegrityError:
        raise ApiError(409, "A company with this name exists", code="company_exists")
    return Reply(201, serialize.company(company))
