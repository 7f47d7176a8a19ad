"""One error body for every failure: {"error": {"code": …, "message": …, "details"?: …}}."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from ninja.errors import AuthenticationError, HttpError, ValidationError

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
}


class ApiError(HttpError):
    """An expected refusal with a stable machine-readable code."""

    def __init__(self, status_code, message, *, code=None, details=None):
        super().__init__(status_code, message)
        self.code = code or CODES.get(status_code, "error")
        self.details = details


def error_body(code, message, details=None):
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def install_error_handlers(api):
    def respond(request, status, code, message, details=None):
        response = api.create_response(request, error_body(code, message, details), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="lbsup"'
        return response

    def on_http_error(request, exc):
        default = "Send a valid API token: Authorization: Bearer lbs_…" if isinstance(exc, AuthenticationError) else None
        message = default if default and exc.message == "Unauthorized" else str(exc)
        return respond(request, exc.status_code, getattr(exc, "code", CODES.get(exc.status_code, "error")), message,
                       getattr(exc, "details", None))

    def on_validation_error(request, exc):
        return respond(request, 422, "invalid", "The request does not match the API schema", exc.errors)

    def on_not_found(request, exc):
        return respond(request, 404, "not_found", "Not found")

    def on_permission_denied(request, exc):
        return respond(request, 403, "forbidden", str(exc) or "Forbidden")

    def on_too_big(request, exc):
        return respond(request, 413, "too_large", "The request body is too large")

    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(PermissionDenied, on_permission_denied)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
