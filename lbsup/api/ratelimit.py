"""Requests per token per minute, a fixed window in the Django cache (429 + Retry-After)."""

import threading
import time

from django.conf import settings
from django.core.cache import cache
from ninja.throttling import BaseThrottle

DEFAULT_PER_MINUTE = 600
WINDOW_SECONDS = 60


def limit_per_minute():
    return getattr(settings, "LBSUP_API_RATE_PER_MINUTE", DEFAULT_PER_MINUTE)


class TokenRateLimit(BaseThrottle):
    def __init__(self):
        self._local = threading.local()  # one instance serves every thread

    def allow_request(self, request):
        caller = getattr(request, "auth", None)
        token = getattr(caller, "token", None)
        if token is None:
            return True
        now = time.time()
        window_start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        key = f"lbsup:api-rate:{token.pk}:{window_start}"
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
        self._local.wait = window_start + WINDOW_SECONDS - now
        return count <= limit_per_minute()

    def wait(self):
        return getattr(self._local, "wait", WINDOW_SECONDS)
