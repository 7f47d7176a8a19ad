from .access import user_memberships


def workspaces(request):
    """The workspace switcher shows only the signed-in user's own workspaces."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"my_memberships": []}
    return {"my_memberships": list(user_memberships(user))}
