"""Bearer-token authentication, the workspace check and the role check, all before the
request body is read: an outsider learns nothing, not even whether the body was valid."""

from dataclasses import dataclass
from datetime import timedelta

from django.http import Http404
from django.utils import timezone
from ninja.security import HttpBearer

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM
from lbsup.workspaces.models import DESK_ROLES, Membership, Role

from .actions import creator_backs
from .errors import ApiError
from .models import ApiToken
from .roles import lower_role
from .tokens import matches, prefix_of

USE_EVENT_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiCaller:
    token: ApiToken
    workspace: object
    role: str
    person: object | None  # the User a person token acts as; None for a service token

    @property
    def actor(self):
        return self.person if self.person is not None else SYSTEM


def resolve_token(plaintext):
    """The caller behind a presented token string; ApiError(401) when it is not valid now."""
    prefix = prefix_of(plaintext)
    token = ApiToken.objects.select_related("workspace", "user", "created_by").filter(prefix=prefix).first() if prefix else None
    if token is None or not matches(plaintext, token.secret_sha256):
        raise ApiError(401, "This API token is not valid")
    if token.revoked_at is not None:
        raise ApiError(401, "This API token was revoked", code="token_revoked")
    if token.kind == ApiToken.Kind.SERVICE:
        # Checked on every request, not only when do_set_membership revokes: the admin and
        # bulk deletes change memberships too.
        creator = Membership.objects.filter(user_id=token.created_by_id, workspace=token.workspace).first()
        if not creator_backs(token, creator):
            raise ApiError(401, "This service token's creator no longer leads this workspace; a lead or admin "
                                "must create a new one", code="token_creator_left")
        return ApiCaller(token=token, workspace=token.workspace, role=token.role, person=None)
    membership = Membership.objects.filter(user=token.user, workspace=token.workspace).first()
    if membership is None or not token.user.is_active:
        raise ApiError(401, "This token's person is no longer a member of its workspace", code="token_owner_left")
    return ApiCaller(token=token, workspace=token.workspace, role=lower_role(token.role, membership.role),
                     person=token.user)


def note_use(caller, request):
    """last_used_at, and an audit event, at most once a minute per token (a conditional
    UPDATE, so concurrent requests record one event)."""
    now = timezone.now()
    stale = ApiToken.objects.filter(pk=caller.token.pk).exclude(last_used_at__gte=now - USE_EVENT_EVERY)
    if stale.update(last_used_at=now):
        record_event(caller.workspace, caller.actor, "api.token_used", caller.token, method=request.method,
                     path=request.path[:300])


def refuse(caller, request, status, message, code=None):
    record_event(caller.workspace, caller.actor, "api.refused", caller.token, status=status, method=request.method,
                 path=request.path[:300], reason=message)
    if status == 404:
        raise Http404(message)
    raise ApiError(status, message, code=code)


OWNER_REFUSAL = "An owner token reaches the daily summaries (/reports/…) only"


class TokenAuth(HttpBearer):
    """roles: the effective roles allowed; person_only: the operation is something a
    named person signs (approving a reply, a note, a playbook upload)."""

    def __init__(self, roles=DESK_ROLES, *, person_only=False):
        self.roles = tuple(roles)
        self.person_only = person_only
        super().__init__()

    def authenticate(self, request, token):
        caller = resolve_token(token.strip())
        match = getattr(request, "resolver_match", None)
        slug = match.kwargs.get("slug") if match else None
        if slug is not None and slug != caller.workspace.slug:
            # A foreign workspace looks exactly like a missing one.
            refuse(caller, request, 404, "No such workspace")
        if caller.role not in self.roles:
            message = OWNER_REFUSAL if caller.role == Role.OWNER else f"The {caller.role} role cannot do this"
            refuse(caller, request, 403, message)
        if self.person_only and caller.person is None:
            refuse(caller, request, 403, "A service token acts as no one: use a person's token for this",
                   code="person_required")
        note_use(caller, request)
        return caller


desk = TokenAuth()
person_at_desk = TokenAuth(person_only=True)
# Owners read their business's reports and nothing else; every desk role may read them too.
report_reader = TokenAuth(roles=(Role.OWNER, *DESK_ROLES))
