"""Response headers every page gets beyond Django's own (CSP comes from django-csp)."""

from django.utils.cache import add_never_cache_headers, patch_vary_headers


class NoStoreForSignedInMiddleware:
    """A signed-in page or an API answer holds a business's customer data: no browser or proxy
    cache may keep it, so the back button after logging out, or a shared computer, shows nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or "HTTP_AUTHORIZATION" in request.META or request.path.startswith("/api/"):
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
        return response
