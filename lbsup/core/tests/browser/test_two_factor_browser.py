"""Two-factor sign-in in chromium (issue #17): set up an authenticator app from the key the page
shows, sign in again with a code, then with a recovery code typed as a person would."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from playwright.sync_api import expect

from lbsup.core.models import AppDevice
from lbsup.testing.personas import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def app_code(secret, steps_ahead=0):
    # What the person's phone shows, computed from the key typed into it, not from the database.
    totp = TOTP(base64.b32decode(secret), drift=steps_ahead)
    return f"{totp.token():06d}"


def sign_in_with_password(page, next_path):
    page.goto(f"/login/?next={next_path}")
    page.fill("#id_username", "provider")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_it_sets_up_an_app_and_signs_in_with_its_code_and_then_a_recovery_code(browser, live_server, page):
    get_user_model().objects.create_user("provider", "provider@example.org", PASSWORD, is_staff=True,
                                         is_superuser=True)
    sign_in_with_password(page, "/admin/")
    expect(page.locator("h1")).to_have_text("Two-factor sign-in")  # no page before a second factor
    assert "/account/two-factor/" in page.url
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator("figure.qr svg").count() == 1

    page.fill("#id_code", "000000" if app_code(secret) != "000000" else "111111")
    page.click("button:has-text('Turn on')")
    expect(page.locator(".flash")).to_contain_text("not the one your app shows")

    AppDevice.objects.filter(user__username="provider").update(throttling_failure_count=0,
                                                               throttling_failure_timestamp=None)
    page.fill("#id_code", app_code(secret))
    page.click("button:has-text('Turn on')")
    codes = page.locator("ul.recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.click("text=Go on")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/")

    second = browser.new_context(base_url=live_server.url).new_page()
    sign_in_with_password(second, "/admin/")
    expect(second.locator("h1")).to_have_text("Enter your code")
    second.fill("#id_code", app_code(secret, steps_ahead=1))  # the setup code is spent; the next one is not
    second.click("main button:has-text('Sign in')")
    second.wait_for_load_state()
    assert second.url.endswith("/admin/")
    second.context.close()

    third = browser.new_context(base_url=live_server.url).new_page()
    sign_in_with_password(third, "/admin/")
    third.fill("#id_code", codes[0].upper().replace("-", " "))  # read off paper
    third.click("main button:has-text('Sign in')")
    third.wait_for_load_state()
    assert third.url.endswith("/admin/")
    third.goto("/account/two-factor/")
    expect(third.locator("main, body").first).to_contain_text("Recovery codes left: 9")
    third.context.close()
