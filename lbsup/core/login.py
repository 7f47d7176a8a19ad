"""Login with throttling, and audit events for every login attempt.

After MAX_FAILURES failed attempts for one username from one address within WINDOW,
that pair is refused (429) until the window ends, without checking the password, so
guessing is capped at a handful of tries per quarter hour."""

import hashlib
import time

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.dispatch import receiver

from lbsup.audit.actions import record_event
from lbsup.audit.actors import SYSTEM

MAX_FAILURES = 5
WINDOW = 15 * 60


def client_ip(request):
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _key(username, ip):
    window = int(time.time() // WINDOW)
    digest = hashlib.sha256(f"{(username or '').strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"lbsup:login-failures:{digest}:{window}", WINDOW - time.time() % WINDOW


def failures(username, ip):
    return cache.get(_key(username, ip)[0], 0)


def note_failure(username, ip):
    key, remaining = _key(username, ip)
    cache.add(key, 0, timeout=int(remaining) + 1)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=int(remaining) + 1)


def minutes_left():
    return max(1, round((WINDOW - time.time() % WINDOW) / 60))


def _refuse_if_throttled(form):
    username = form.data.get("username", "")
    if failures(username, client_ip(form.request)) >= MAX_FAILURES:
        record_event(None, SYSTEM, "auth.login_throttled", username=str(username)[:150], ip=client_ip(form.request))
        raise ValidationError(
            "Too many failed sign-in attempts for this account from your address. "
            f"Try again in {minutes_left()} minutes.", code="throttled")


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        # Before authenticate(): a throttled pair gets no answer about the password.
        _refuse_if_throttled(self)
        return super().clean()


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        _refuse_if_throttled(self)
        return super().clean()


class ThrottledLoginView(auth_views.LoginView):
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        if any(e.code == "throttled" for e in form.errors.as_data().get("__all__", [])):
            return self.response_class(request=self.request, template="core/login_throttled.html",
                                       context=self.get_context_data(form=form), status=429)
        return super().form_invalid(form)


def install_admin_throttle():
    """The admin site has its own login view; it gets the same limit."""
    from django.contrib import admin

    admin.site.login_form = ThrottledAdminAuthenticationForm


@receiver(user_login_failed, dispatch_uid="lbsup-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    ip = client_ip(request)
    note_failure(username, ip)
    record_event(None, SYSTEM, "auth.login_failed", username=username, ip=ip)


@receiver(user_logged_in, dispatch_uid="lbsup-logged-in")
def _logged_in(sender, request, user, **kwargs):
    record_event(None, user, "auth.logged_in", user, ip=client_ip(request))


@receiver(user_logged_out, dispatch_uid="lbsup-logged-out")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(None, user, "auth.logged_out", user, ip=client_ip(request))
