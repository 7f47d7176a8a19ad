"""The REST API: /api/w/<slug>/…, OpenAPI at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

from .errors import install_error_handlers
from .ratelimit import TokenRateLimit
from .routers import crm, crm_notes, drafts, followups, leads, playbooks, reports, tickets

api = NinjaAPI(
    title="lbsup API",
    version="1",
    description=(
        "Per-workspace access for a business's own tools. Authenticate with "
        "`Authorization: Bearer <token>` (create tokens at /api/tokens/). Errors are "
        '`{"error": {"code": …, "message": …}}`. Reads carry an ETag; list endpoints page with `next_cursor`.\n\n'
        "Resources, under `/api/w/<workspace>/`:\n\n"
        "- **tickets** (the queue's filters; create from an inbound message, with `Idempotency-Key`), their "
        "**messages**, **triage results**, **drafts** (approve-and-send) and internal **notes**\n"
        "- **contacts** and **companies**\n"
        "- **CRM notes** per contact and per ticket: propose one, approve it\n"
        "- **leads**: filter by stage, owner or `updated_since`; move the stage, change the owner\n"
        "- **follow-ups**: open, overdue or due soon, per ticket; snooze, nudge, cancel\n"
        "- **playbook versions**: read, upload for approval\n"
        "- **daily summaries**: the days, and one day's figures with the tickets behind each\n\n"
        "Roles: a representative, lead or admin token reaches everything; an **owner** token reaches the "
        "daily summaries only (403 elsewhere). Approving a reply or a CRM note, notes, follow-ups, lead "
        "changes and playbook uploads are signed by a person: they need a person's token, never a service token."
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
api.add_router(WORKSPACE, crm_notes.router)
api.add_router(WORKSPACE, leads.router)
api.add_router(WORKSPACE, followups.router)
api.add_router(WORKSPACE, reports.router)
