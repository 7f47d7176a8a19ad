"""Role order for tokens: a token never does more than the role it was given, nor
more than its person may do today."""

from lbsup.workspaces.models import Role

RANK = {Role.OWNER: 0, Role.REPRESENTATIVE: 1, Role.LEAD: 2, Role.ADMIN: 3}


def lower_role(first, second):
    return first if RANK[first] <= RANK[second] else second


def roles_up_to(role):
    """The roles a user with `role` may give a token, lowest first."""
    return [r for r in RANK if RANK[r] <= RANK[role]]
