"""Who must sign in with a second factor, and the middleware that holds them to it.

Provider staff (Django staff and superusers) always need one: they see every workspace.  Leads
and admins need one in a workspace that requires it.  Until such a person has confirmed a code in
this session, every page sends them to set up an authenticator app or to enter a code; only those
pages and logging out stay open.  API operations are left alone: they authenticate with a bearer
token, not the session, and a token is created from a verified session.
"""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django_otp import user_has_device

from lbsup.workspaces.models import Membership, Role

OPEN_PAGES = frozenset({"two_factor", "two_factor_verify", "logout", "login", "health", "admin:logout"})


def two_factor_required(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user, role__in=(Role.LEAD, Role.ADMIN),
                                     workspace__require_two_factor=True).exists()


class RequireTwoFactorMiddleware:
    """After django_otp's OTPMiddleware, which sets request.user.is_verified()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match.view_name in OPEN_PAGES or "api" in match.namespaces:  # "api": the token-authenticated operations
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified() or not two_factor_required(user):
            return None
        page = "two_factor_verify" if user_has_device(user) else "two_factor"
        target = redirect(page).url + "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target  # htmx would otherwise swap the sign-in page into a fragment
            return response
        return redirect(target)
