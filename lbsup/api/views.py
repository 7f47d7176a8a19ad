"""Token management for a logged-in person: create (the secret is shown once), list, revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from lbsup.workspaces.access import user_memberships

from .actions import TOKEN_MANAGERS, can_revoke, do_create_token, do_revoke_token
from .forms import TokenForm
from .models import ApiToken


def visible_tokens(user, memberships):
    """Your own tokens, and every token of the workspaces you lead or administer."""
    managed = [m.workspace_id for m in memberships if m.role in TOKEN_MANAGERS]
    mine = [m.workspace_id for m in memberships]
    return (ApiToken.objects.filter(workspace_id__in=mine)
            .filter(Q(user=user) | Q(created_by=user) | Q(workspace_id__in=managed))
            .select_related("workspace", "user", "created_by"))


@never_cache
@login_required
def token_list(request):
    memberships = list(user_memberships(request.user))
    form = TokenForm(request.POST or None, memberships=memberships)
    created = None
    if request.method == "POST" and form.is_valid():
        membership = form.memberships[form.cleaned_data["workspace"]]
        try:
            created = do_create_token(request.user, membership.workspace, name=form.cleaned_data["name"],
                                      role=form.cleaned_data["role"], kind=form.cleaned_data["kind"])
        except (PermissionError, ValueError) as error:
            form.add_error(None, str(error))
        else:
            form = TokenForm(memberships=memberships)
    status = 400 if request.method == "POST" and created is None else 200
    return render(request, "api/tokens.html", {
        "form": form, "created": created, "tokens": visible_tokens(request.user, memberships),
        "memberships": memberships,
    }, status=status)


@require_POST
@login_required
def revoke_token(request, token_id):
    token = visible_tokens(request.user, list(user_memberships(request.user))).filter(pk=token_id).first()
    if token is None or not can_revoke(request.user, token):
        raise Http404("No such token")
    do_revoke_token(request.user, token)
    messages.success(request, f"Revoked {token.name}; it stops working now.")
    return redirect("api_tokens")
