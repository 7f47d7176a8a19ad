from django.db import transaction

from lbsup.audit.actions import record_event

from .models import Membership, Team, Workspace


@transaction.atomic
def do_create_workspace(actor, *, slug, name, support_email, timezone="UTC", business_hours=None, phone=""):
    workspace = Workspace(
        slug=slug,
        name=name,
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
    return membership
