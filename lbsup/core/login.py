"""Login with throttling, and audit events for every login attempt.

Failed attempts are counted per quarter hour under three keys, and a sign-in over any limit is
refused (429) without checking the password:
- one username from one address (MAX_FAILURES): a guesser gets a handful of tries;
- one address across all usernames (MAX_FAILURES_PER_ADDRESS): spraying one password over many
  accounts is capped too;
- one username across all addresses (MAX_FAILURES_PER_ACCOUNT): a botnet cannot rotate addresses
  without limit.  Set higher than the others, because anyone can trip it for someone else's account.
The username is keyed as NFKC + case-folded, the form of it Django's UsernameField hands to
authenticate(), so "ｒｅｐ" or "REP" count against "rep".  The refusal reads the same whether or
not the account exists."""

import hashlib
import time
import unicodedata

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
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_ACCOUNT = 50
WINDOW = 15 * 60


def client_ip(request):
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def normalize_username(username) -> str:
    return unicodedata.normalize("NFKC", str(username or "")).casefold().strip()


def _limits(username, ip):
    """(cache key, limit) for every counter that a failure of username from ip adds to."""
    name = normalize_username(username)
    window = int(time.time() // WINDOW)
    counters = ((f"pair|{name}|{ip}", MAX_FAILURES), (f"address|{ip}", MAX_FAILURES_PER_ADDRESS),
                (f"account|{name}", MAX_FAILURES_PER_ACCOUNT))
    return [(f"lbsup:login-failures:{hashlib.sha256(what.encode()).hexdigest()[:32]}:{window}", limit)
            for what, limit in counters]


def throttled(username, ip) -> bool:
    counts = cache.get_many([key for key, _ in _limits(username, ip)])
    return any(counts.get(key, 0) >= limit for key, limit in _limits(username, ip))


def note_failure(username, ip):
    timeout = int(WINDOW - time.time() % WINDOW) + 1
    for key, _ in _limits(username, ip):
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=timeout)


def minutes_left():
    return max(1, round((WINDOW - time.time() % WINDOW) / 60))


def _refuse_if_throttled(form):
    username = form.data.get("username", "")
    if throttled(username, client_ip(form.request)):
        record_event(None, SYSTEM, "auth.login_throttled", username=str(username)[:150], ip=client_ip(form.request))
        raise ValidationError(
            f"Too many failed sign-in attempts. Try again in {minutes_left()} minutes.", code="throttled")


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
