"""Keyset pagination by id, newest first: a page boundary never skips or repeats a row
when new rows arrive while a client pages through. The cursor is the id to continue
before, as a string (clients should treat it as opaque)."""

from ninja import Query

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_PATTERN = r"^[0-9]{1,18}$"


def cursor_param():
    return Query(None, pattern=CURSOR_PATTERN, description="next_cursor from the previous page")


def page(queryset, *, cursor, limit, serialize):
    if cursor:
        queryset = queryset.filter(id__lt=int(cursor))
    rows = list(queryset.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"results": [serialize(row) for row in rows], "next_cursor": str(rows[-1].id) if more else None}
