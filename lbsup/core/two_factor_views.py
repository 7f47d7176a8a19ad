"""The second-factor pages: set up an authenticator app, enter a code after the password."""

import base64

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from lbsup.audit.actions import record_event
from lbsup.core.models import AppDevice, RecoveryCodes
from lbsup.workspaces.models import Membership, Role

from . import actions
from .two_factor import two_factor_required


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    user = request.user
    required = two_factor_required(user)
    context = {"required": required, "next": _next(request, "")}
    if request.method == "POST":
        try:
            response = _act(request, request.POST.get("action", ""), required, context)
        except (ValueError, PermissionError) as refused:
            messages.error(request, str(refused))
            response = None
        if response is not None:
            return response
    app = AppDevice.objects.filter(user=user, confirmed=True).first()
    if app is None:
        device = actions.pending_app_device(user)
        context.update(setup=True, secret=base64.b32encode(device.bin_key).decode(), qr=_qr_svg(device.config_url))
    else:
        codes = RecoveryCodes.objects.filter(user=user).first()
        context.update(app=app, codes_left=codes.codes.count() if codes else 0)
    context["admin_of"] = [m.workspace for m in Membership.objects.filter(user=user, role=Role.ADMIN)
                           .select_related("workspace").order_by("workspace__name")]
    return render(request, "core/two_factor.html", context)


def _act(request, action, required, context):
    user = request.user
    if action == "confirm":
        device = AppDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            raise ValueError("This setup has expired; start again.")
        codes = actions.do_confirm_app_device(user, device, request.POST.get("code"))
        otp_login(request, device)
        return render(request, "core/two_factor_codes.html", {"codes": codes, "next": context["next"] or "/"})
    if action == "new_codes":
        _require_verified(request)
        return render(request, "core/two_factor_codes.html",
                      {"codes": actions.do_new_recovery_codes(user), "next": "/"})
    if action == "turn_off":
        _require_verified(request)
        actions.do_turn_off_two_factor(user, required=required)
        messages.success(request, "Two-factor sign-in is off.")
        return redirect("two_factor")
    if action == "require":
        _require_verified(request)
        workspace = next((m.workspace for m in Membership.objects.filter(
            user=user, role=Role.ADMIN, workspace__slug=request.POST.get("workspace", "")).select_related("workspace")),
            None)
        if workspace is None:
            raise PermissionError("Only an admin of the workspace can change its sign-in rules.")
        actions.do_require_two_factor(user, workspace, request.POST.get("required") == "on")
        messages.success(request, f"Sign-in rules of {workspace.name} saved.")
        return redirect("two_factor")
    raise ValueError("Unknown action.")


def _require_verified(request):
    # Changing the second factor itself needs a session that passed it, not only the password.
    if user_has_device(request.user) and not request.user.is_verified():
        raise PermissionError("Enter a code from your app first.")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    user = request.user
    if not user_has_device(user):
        return redirect("two_factor")
    error = ""
    if request.method == "POST":
        code = "".join(request.POST.get("code", "").split())
        # Six digits are the app's; anything else a recovery code.  Each kind is tried on its own
        # device only, so a recovery code does not count as a failure of the app's throttle.
        kind = AppDevice if code.isdigit() else RecoveryCodes
        device = next((d for d in kind.objects.filter(user=user, confirmed=True)
                       if code and d.verify_token(code)), None)  # verify_token applies django-otp's throttle
        if device is not None:
            otp_login(request, device)
            record_event(None, user, "auth.two_factor_passed", user, device=device.name)
            return redirect(_next(request, "/"))
        record_event(None, user, "auth.two_factor_failed", user)
        error = "That code did not work. Enter the code your app shows now, or one of your recovery codes."
    return render(request, "core/two_factor_verify.html", {"error": error, "next": _next(request, "")})


def _next(request, default):
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and safe else default


def _qr_svg(uri) -> str:
    # Drawn by the qrcode package from the otpauth URI only: no customer or user text reaches it.
    return mark_safe(qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode"))
