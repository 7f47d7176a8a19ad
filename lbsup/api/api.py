"""The REST API: /api/w/<slug>/…, OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

from .errors import install_error_handlers
from .ratelimit import TokenRateLimit
from .routers import crm, drafts, playbooks, tickets

api = NinjaAPI(
    title="lbsup API",
    version="1",
    description=(
        "Per-workspace access for a business's own tools. Authenticate with "
        "`Authorization: Bearer <token>` (create tokens at /api/tokens/). Errors are "
        '`{"error": {"code": …, "message": …}}`. Reads carry an ETag; list endpoints page with `next_cursor`.'
    ),
    urls_namespace="api",
    throttle=[TokenRateLimit()],
)
install_error_handlers(api)

WORKSPACE = "/w/{slug}/"
api.add_router(WORKSPACE, tickets.router)
api.add_router(WORKSPACE, drafts.router)
api.add_router(WORKSPACE, crm.router)
api.add_router(WORKSPACE, playbooks.router)
