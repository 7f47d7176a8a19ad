"""The one place that decides which workspace a request may touch."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import DESK_ROLES, Membership


def user_memberships(user):
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def membership_or_404(user, slug, roles=DESK_ROLES):
    """A foreign workspace is indistinguishable from a missing one (404); a role
    that may not do this here gets 403."""
    membership = user_memberships(user).filter(workspace__slug=slug).first()
    if membership is None:
        raise Http404("No such workspace")
    if membership.role not in roles:
        raise PermissionDenied(f"The {membership.get_role_display()} role cannot open this page")
    return membership
