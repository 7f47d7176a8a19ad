"""Every write to API tokens, with its audit event."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from lbsup.audit.actions import record_event
from lbsup.audit.actors import is_person
from lbsup.workspaces.models import Membership, Role

from .models import ApiToken
from .roles import RANK
from .tokens import digest, new_token

SERVICE_TOKEN_CREATORS = (Role.LEAD, Role.ADMIN)
TOKEN_MANAGERS = (Role.LEAD, Role.ADMIN)


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    plaintext: str  # shown once; never stored


def _membership(user, workspace):
    membership = Membership.objects.filter(user=user, workspace=workspace).first()
    if membership is None:
        raise PermissionError(f"{user} is not a member of {workspace}")
    return membership


@transaction.atomic
def do_create_token(actor, workspace, *, name, role, kind=ApiToken.Kind.PERSON):
    """A person creates a token for one workspace. A person token acts as its creator;
    a service token (leads and admins only) acts as no one and can never send."""
    membership = _membership(actor, workspace)
    if role not in RANK:
        raise ValueError(f"Unknown role {role!r}")
    if RANK[role] > RANK[membership.role]:
        raise PermissionError(f"A {membership.get_role_display()} cannot create a token with the {role} role")
    if kind == ApiToken.Kind.SERVICE:
        if membership.role not in SERVICE_TOKEN_CREATORS:
            raise PermissionError("Only a lead or admin can create a service token")
        if role == Role.OWNER:
            raise ValueError("A service token needs a desk role")
    elif kind != ApiToken.Kind.PERSON:
        raise ValueError(f"Unknown token kind {kind!r}")
    name = name.strip()[:100]
    if not name:
        raise ValueError("Give the token a name, so you know later what uses it")
    parts = new_token()
    token = ApiToken.objects.create(
        workspace=workspace, kind=kind, user=actor if kind == ApiToken.Kind.PERSON else None, created_by=actor,
        name=name, role=role, prefix=parts.prefix, secret_sha256=digest(parts.plaintext),
    )
    record_event(workspace, actor, "api.token_created", token, name=name, kind=kind, role=role, prefix=parts.prefix)
    return CreatedToken(token=token, plaintext=parts.plaintext)


def creator_backs(token, membership):
    """Whether a service token's creator, with this membership (None: not a member), could
    create it today. A service token acts as no one, so only its creator's standing keeps it
    in check: once they leave, lose the right to service tokens, or fall below its role, it
    stops, however the membership changed (an action, the admin, a bulk delete)."""
    creator = token.created_by
    return (membership is not None and creator is not None and creator.is_active
            and membership.role in SERVICE_TOKEN_CREATORS and RANK[membership.role] >= RANK[token.role])


def tokens_unbacked(workspace, user):
    """The live tokens of this workspace that `user`'s current membership no longer backs:
    service tokens they created (see creator_backs) and, once they left, their person tokens.
    A person token of a demoted member keeps working at the lower role (resolve_token)."""
    membership = Membership.objects.filter(user=user, workspace=workspace).first()
    live = ApiToken.objects.filter(workspace=workspace, revoked_at__isnull=True).select_related("created_by")
    unbacked = [t for t in live.filter(kind=ApiToken.Kind.SERVICE, created_by=user) if not creator_backs(t, membership)]
    if membership is None:
        unbacked += list(live.filter(kind=ApiToken.Kind.PERSON, user=user))
    return unbacked


@transaction.atomic
def do_revoke_unbacked_tokens(actor, workspace, user):
    """Revoke the tokens `user`'s membership change left without a backer; returns them, so
    the page that changed the membership can say which ones stopped. One audit event per
    token, and one that names them all for the leads reading the workspace's log."""
    revoked = []
    now = timezone.now()
    for token in tokens_unbacked(workspace, user):
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
                revoked_at=now, revoked_by=actor if is_person(actor) else None):
            token.revoked_at = now
            record_event(workspace, actor, "api.token_revoked", token, name=token.name, prefix=token.prefix,
                         reason="membership_changed", member=user.get_username())
            revoked.append(token)
    if revoked:
        record_event(workspace, actor, "api.tokens_revoked_with_membership", None, member=user.get_username(),
                     tokens=[{"name": t.name, "prefix": t.prefix, "kind": t.kind, "role": t.role} for t in revoked])
    return revoked


def can_revoke(user, token):
    if token.user_id == user.pk or token.created_by_id == user.pk:
        return True
    return Membership.objects.filter(user=user, workspace_id=token.workspace_id, role__in=TOKEN_MANAGERS).exists()


@transaction.atomic
def do_revoke_token(actor, token):
    if not can_revoke(actor, token):
        raise PermissionError("Only the token's owner, or a lead or admin of its workspace, can revoke it")
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    token.refresh_from_db()
    if revoked:
        record_event(token.workspace, actor, "api.token_revoked", token, name=token.name, prefix=token.prefix)
    return token
