"""Two-factor sign-in (issue #17, beyond the findings): provider staff always need a second factor,
leads and admins when their workspace asks for it; authenticator-app codes (TOTP) and one-time
recovery codes, through django-otp."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from lbsup.core.models import AppDevice, RecoveryCode

from lbsup.audit.models import AuditEvent
from lbsup.core.actions import do_require_two_factor
from lbsup.testing.personas import PASSWORD


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("provider", "provider@example.org", PASSWORD, is_staff=True,
                                                is_superuser=True)


def sign_in(username):
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def current_code(device, drift=0):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):0{device.digits}d}"


def set_up_app(client, user):
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = AppDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', page.content.decode()).group(1)
    assert secret  # the key can also be typed in by hand
    shown = client.post("/account/two-factor/", {"action": "confirm", "code": current_code(device)})
    codes = re.findall(r"<li><code>([^<]+)</code></li>", shown.content.decode())
    assert len(codes) == 10
    return device, codes


def test_it_sends_provider_staff_to_set_up_a_second_factor_before_any_page(personas, staff):
    client = sign_in("provider")
    for path in ("/", "/admin/", f"/w/{personas.dental.slug}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/?next="), path
    device, _ = set_up_app(client, staff)
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(verb="auth.two_factor_enabled", actor_user=staff).exists()


def test_it_asks_for_a_code_after_the_password_and_refuses_a_wrong_one(personas, staff):
    device, _ = set_up_app(sign_in("provider"), staff)
    client = sign_in("provider")
    response = client.get("/admin/")
    assert response["Location"].startswith("/account/two-factor/verify/?next=")
    wrong = client.post("/account/two-factor/verify/", {"code": "000000" if current_code(device) != "000000"
                                                        else "111111", "next": "/admin/"})
    assert b"That code did not work" in wrong.content
    assert client.get("/admin/").status_code == 302
    device.refresh_from_db()
    device.throttle_reset()  # django-otp waits after a wrong code; the next right one must still pass
    # The code setup used is spent (no replay); the app's next one is within the allowed clock drift.
    right = client.post("/account/two-factor/verify/", {"code": current_code(device, drift=1), "next": "/admin/"})
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_it_takes_each_recovery_code_once(personas, staff):
    _, codes = set_up_app(sign_in("provider"), staff)
    first = sign_in("provider")
    assert first.post("/account/two-factor/verify/", {"code": codes[0]}).status_code == 302
    assert first.get("/admin/").status_code == 200
    again = sign_in("provider")
    assert b"That code did not work" in again.post("/account/two-factor/verify/", {"code": codes[0]}).content


def test_it_keeps_an_off_site_next_address_out(personas, staff):
    client = sign_in("provider")
    device = AppDevice.objects.create(user=staff, name="app", confirmed=True)
    response = client.post("/account/two-factor/verify/", {"code": current_code(device),
                                                           "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_it_requires_a_second_factor_of_leads_and_admins_only_where_the_workspace_asks(personas):
    from lbsup.workspaces.actions import do_set_membership
    from lbsup.workspaces.models import Role

    assert sign_in("lena").get(f"/w/{personas.dental.slug}/").status_code == 200
    admin = get_user_model().objects.create_user("dana", "dana@example.org", PASSWORD)
    from lbsup.audit.actors import SYSTEM

    do_set_membership(SYSTEM, personas.dental, admin, Role.ADMIN)
    do_require_two_factor(admin, personas.dental, True)
    lead_page = sign_in("lena").get(f"/w/{personas.dental.slug}/")
    assert lead_page.status_code == 302 and "/account/two-factor/" in lead_page["Location"]
    assert sign_in("alice").get(f"/w/{personas.dental.slug}/").status_code == 200  # representatives: no
    assert sign_in("charlie").get(f"/w/{personas.shop.slug}/").status_code == 200  # another workspace: no
    assert AuditEvent.objects.filter(verb="workspace.two_factor_required", workspace=personas.dental).exists()


def test_it_lets_only_a_workspace_admin_change_the_requirement(personas):
    with pytest.raises(PermissionError):
        do_require_two_factor(personas.lena, personas.dental, True)
    client = sign_in("lena")
    client.post("/account/two-factor/", {"action": "require", "workspace": personas.dental.slug, "required": "on"})
    personas.dental.refresh_from_db()
    assert not personas.dental.require_two_factor


def test_it_does_not_let_a_required_person_turn_it_off(personas, staff):
    client = sign_in("provider")
    set_up_app(client, staff)
    client.post("/account/two-factor/", {"action": "turn_off"})
    assert AppDevice.objects.filter(user=staff, confirmed=True).exists()
