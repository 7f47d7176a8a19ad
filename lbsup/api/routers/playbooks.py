from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.responses import Status as Reply

from lbsup.assist.playbook import PlaybookError
from lbsup.playbooks.actions import APPROVER_ROLES, do_upload_playbook
from lbsup.playbooks.models import PlaybookVersion

from .. import schemas, serialize
from ..auth import desk, person_at_desk
from ..errors import ApiError
from .common import Number, WorkspaceSlug, cached_read, responses

router = Router(tags=["playbooks"])


def versions_of(workspace):
    return PlaybookVersion.objects.filter(workspace=workspace).select_related("uploaded_by", "approved_by")


@router.get("/playbooks", response=responses(list[schemas.PlaybookVersion]), auth=desk,
            operation_id="list_playbook_versions")
@cached_read
def list_playbook_versions(request, slug: WorkspaceSlug):
    return [serialize.playbook_version(v) for v in versions_of(request.auth.workspace)]


@router.get("/playbooks/{version}", response=responses(schemas.PlaybookVersionWithText), auth=desk,
            operation_id="get_playbook_version")
@cached_read
def get_playbook_version(request, slug: WorkspaceSlug, version: Number):
    found = get_object_or_404(versions_of(request.auth.workspace), number=version)
    return serialize.playbook_version(found, with_text=True)


@router.post("/playbooks", response=responses(schemas.PlaybookVersion, status=201), auth=person_at_desk,
             operation_id="upload_playbook")
def upload_playbook(request, slug: WorkspaceSlug, payload: schemas.PlaybookIn):
    """Upload a playbook file for approval. It is checked now and used only after a lead
    or admin approves it in the web app. Needs a lead's or admin's person token."""
    # A lead's token issued with a lower role is held to that role, as everywhere else.
    if request.auth.role not in APPROVER_ROLES:
        raise ApiError(403, f"The {request.auth.role} role cannot upload a playbook: a lead or admin does")
    try:
        version = do_upload_playbook(request.auth.actor, request.auth.workspace, payload.text, note=payload.note,
                                     source="<api upload>")
    except PermissionError as error:
        raise ApiError(403, str(error))
    except PlaybookError as error:
        raise ApiError(422, "The playbook is not valid", code="invalid_playbook", details=_problems(error))
    return Reply(201, serialize.playbook_version(versions_of(request.auth.workspace).get(pk=version.pk)))


def _problems(error):
    return [{"line": p.line, "path": p.path, "message": p.message} for p in error.problems]
