"""Request checks and response headers every page gets beyond Django's own (CSP comes from django-csp)."""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
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


class RefuseNulCharactersMiddleware:
    """PostgreSQL cannot store a NUL character, and no person types one: a request carrying one
    (in the path, the query, a form field or a JSON body) is refused with a clear 400, or 422
    in the API's error format, before any view can fail on it with a 500.  Uploaded files are
    not read here: mail and attachments are binary and the intake repairs them itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After URL resolution, so the answer can take the form of the API's errors for API operations.
        where = nul_in_request(request)
        if not where:
            return None
        message = f"The request contains a NUL character (in {where}); remove it and send again."
        if "api" in request.resolver_match.namespaces:
            from lbsup.api.errors import error_body

            return JsonResponse(error_body("invalid", message), status=422)
        return render(request, "400.html", {"message": message}, status=400)


def nul_in_request(request) -> str:
    """Where the first NUL character of the request is ("query", "form field 'q'", …), or ""."""
    if "\x00" in request.path:
        return "the address"
    if _has_nul(request.GET):
        return "the query"
    content_type = request.content_type or ""
    try:
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return "a form field" if _has_nul(request.POST) else ""
        if content_type == "application/json" or content_type.endswith("+json"):
            body = request.body
            if b"\x00" in body:
                return "the body"
            if b"\\u0000" in body.lower():
                try:
                    return "the body" if _json_has_nul(json.loads(body)) else ""
                except ValueError:
                    return ""  # the view reports the invalid JSON itself
    except RequestDataTooBig:
        return ""  # the view answers 413 itself
    return ""


def _has_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query_dict.lists())


def _json_has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_json_has_nul(k) or _json_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_has_nul(v) for v in value)
    return False
