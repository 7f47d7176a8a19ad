"""Shared pieces of every workspace router."""

from typing import Annotated

from django.views.decorators.http import conditional_page
from django.views.decorators.vary import vary_on_headers
from ninja import Path, Query
from ninja.decorators import decorate_view

from ..schemas import Error

# Every operation documents every refusal it can give, so clients (and schemathesis) know them.
REFUSALS = {code: Error for code in (400, 401, 403, 404, 422, 429)}


def responses(ok, *, status=200, extra=()):
    return {status: ok, **REFUSALS, **{code: Error for code in extra}}


# GETs carry an ETag; a client sending it back in If-None-Match gets 304 and no body.
cached_read = decorate_view(vary_on_headers("Authorization"), conditional_page)

# The slug sits in the routers' shared prefix, which ninja does not scan for path parameters.
WorkspaceSlug = Path[str]

# Bounded ids: an out-of-range number is a 422, never a database overflow.
MAX_ID = 2**63 - 1
MAX_NUMBER = 2**31 - 1  # per-workspace numbers are 32-bit columns
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
Number = Annotated[int, Path(ge=1, le=MAX_NUMBER)]
OptionalId = Annotated[int | None, Query(None, ge=1, le=MAX_ID)]
