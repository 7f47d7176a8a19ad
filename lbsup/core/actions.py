"""Writes of the sign-in area: second factors (lbsup/core/models.py) and who must use one."""

from lbsup.audit.actions import record_event
from lbsup.core.models import AppDevice, RecoveryCodes
from lbsup.workspaces.models import Membership, Role

RECOVERY_CODES = 10
APP_DEVICE = "Authenticator app"
CODES_DEVICE = "Recovery codes"


def pending_app_device(user):
    """The unconfirmed authenticator-app device a setup page shows, created on first view."""
    device = AppDevice.objects.filter(user=user, confirmed=False).first()
    return device or AppDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


def do_confirm_app_device(user, device, code) -> list[str]:
    """Confirm the app with one code it shows; returns fresh recovery codes, to be shown once."""
    if device.user_id != user.pk or device.confirmed:
        raise ValueError("This setup has expired; start again.")
    if not device.verify_token(_digits(code)):
        raise ValueError("That code is not the one your app shows now. Check the clock of the phone and try again.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    AppDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    record_event(None, user, "auth.two_factor_enabled", user)
    return do_new_recovery_codes(user)


def do_new_recovery_codes(user) -> list[str]:
    """Replace every recovery code of the user; each of the new ones signs in once."""
    device, _ = RecoveryCodes.objects.get_or_create(user=user, name=CODES_DEVICE, defaults={"confirmed": True})
    codes = device.replace_codes(RECOVERY_CODES)
    record_event(None, user, "auth.recovery_codes_replaced", user)
    return codes


def do_turn_off_two_factor(user, *, required: bool):
    if required:
        raise PermissionError("Your role requires two-factor sign-in; it cannot be turned off.")
    AppDevice.objects.filter(user=user).delete()
    RecoveryCodes.objects.filter(user=user).delete()
    record_event(None, user, "auth.two_factor_disabled", user)


def do_require_two_factor(actor, workspace, required: bool):
    """Only the workspace's admins decide whether its leads and admins need a second factor."""
    if not Membership.objects.filter(user=actor, workspace=workspace, role=Role.ADMIN).exists():
        raise PermissionError("Only an admin of the workspace can change its sign-in rules.")
    workspace.require_two_factor = required
    workspace.save(update_fields=["require_two_factor"])
    record_event(workspace, actor, "workspace.two_factor_required" if required else "workspace.two_factor_optional",
                 workspace)


def _digits(code) -> str:
    return "".join(str(code or "").split())
