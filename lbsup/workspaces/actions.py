from django.db import transaction

from lbsup.audit.actions import record_event
from lbsup.core.headers import one_line

from .models import Membership, Team, Workspace


@transaction.atomic
def do_create_workspace(actor, *, slug, name, support_email, timezone="UTC", business_hours=None, phone=""):
    workspace = Workspace(
        slug=slug,
        name=one_line(name),  # the From name of every reply
        support_email=support_email,
        timezone=timezone,
        business_hours=business_hours or {},
        phone=phone,
    )
    workspace.full_clean()
    workspace.save()
    record_event(workspace, actor, "workspace.created", workspace, slug=slug, name=name)
    return workspace


@transaction.atomic
def do_create_team(actor, workspace, *, slug, name, lead=None):
    team = Team.objects.create(workspace=workspace, slug=slug, name=name, lead=lead)
    record_event(workspace, actor, "team.created", team, slug=slug, name=name)
    return team


@transaction.atomic
def do_set_membership(actor, workspace, user, role, teams=()):
    """Add a member or change their role and teams."""
    for team in teams:
        if team.workspace_id != workspace.id:
            raise ValueError(f"Team {team.slug} belongs to another workspace")
    membership, created = Membership.objects.update_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    membership.teams.set(teams)
    record_event(
        workspace,
        actor,
        "membership.added" if created else "membership.changed",
        membership,
        user=user.get_username(),
        role=role,
        teams=[t.slug for t in teams],
    )
    # Read by the page that made the change, to tell the lead which tokens stopped.
    membership.revoked_tokens = settle_tokens(actor, workspace, user)
    return membership


@transaction.atomic
def do_remove_membership(actor, workspace, user):
    """Take someone out of a workspace; returns the API tokens that stopped with it."""
    membership = Membership.objects.filter(workspace=workspace, user=user).first()
    if membership is None:
        raise ValueError(f"{user.get_username()} is not a member of {workspace}")
    record_event(workspace, actor, "membership.removed", membership, user=user.get_username(), role=membership.role)
    membership.delete()
    return settle_tokens(actor, workspace, user)


def settle_tokens(actor, workspace, user):
    """After any change to `user`'s membership (an action here, or the admin): revoke the
    API tokens it no longer backs. The API refuses them anyway (lbsup.api.auth); revoking
    records it and shows it on the token page."""
    from lbsup.api.actions import do_revoke_unbacked_tokens  # lbsup.api builds on workspaces

    return do_revoke_unbacked_tokens(actor, workspace, user)
