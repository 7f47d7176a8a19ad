"""Full-text search over tickets (subject, customer-visible message text, contact name and
emails) behind one interface: PostgreSQL full-text search on PostgreSQL, FTS5 on SQLite, and
a plain LIKE scan anywhere else. The indexes are kept by triggers (migration 0002).

Whatever the person types is reduced to word tokens before it reaches the database, so no
query syntax (quotes, NEAR, column filters, tsquery operators) can be injected: every word
must match, and the last one matches as a prefix, which is what a search box feels like.

The queue asks for the first matches in its own order (`first_matching_ids`), not for every
match: that is what lets PostgreSQL answer in milliseconds (see there)."""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

MAX_TERMS = 12
MAX_TERM_LENGTH = 64
# Tickets checked one by one in queue order before PostgreSQL asks the index for every match
# instead: ~10 µs each, so the walk costs at most ~20 ms when the words turn out to be rare.
WALK = 2000


@dataclass(frozen=True)
class SearchQuery:
    text: str
    terms: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.terms


def parse(text: str) -> SearchQuery:
    text = (text or "")[:500]
    terms = tuple(term[:MAX_TERM_LENGTH] for term in re.findall(r"[^\W_]+", text.lower()))[:MAX_TERMS]
    return SearchQuery(text=text.strip(), terms=terms)


def fts5_expression(query: SearchQuery) -> str:
    *exact, last = query.terms
    return " ".join([*(f'"{term}"' for term in exact), f'"{last}"*'])


def tsquery_expression(query: SearchQuery) -> str:
    *exact, last = query.terms
    return " & ".join([*exact, f"{last}:*"])


def filter_tickets(tickets, query: SearchQuery):
    """The tickets of a queryset that match every term; unchanged for an empty query."""
    if query.empty:
        return tickets
    vendor = connection.vendor
    if vendor == "sqlite":
        matches = RawSQL("SELECT rowid FROM desk_ticket_fts WHERE desk_ticket_fts MATCH %s", [fts5_expression(query)])
        return tickets.filter(pk__in=matches)
    if vendor == "postgresql":
        matches = RawSQL(
            "SELECT ticket_id FROM desk_ticket_search WHERE document @@ to_tsquery('english', %s)",
            [tsquery_expression(query)],
        )
        return tickets.filter(pk__in=matches)
    return _filter_by_like(tickets, query)


def first_matching_ids(ordered_parts: list, query: SearchQuery, limit: int) -> list[int]:
    """The ids of the first `limit` tickets that match every term, from ordered querysets read
    one after the other (a queue split at a cursor): the same tickets on every database."""
    if query.empty or connection.vendor != "postgresql":
        # FTS5 hands SQLite a small rowid set it joins well, whatever the words
        return _first_of_each(ordered_parts, limit, lambda tickets: filter_tickets(tickets, query))
    return _first_matching_on_postgres(ordered_parts, tsquery_expression(query), limit)


def _first_of_each(ordered_parts, limit, narrow) -> list[int]:
    found = []
    for tickets in ordered_parts:
        if len(found) == limit:
            break
        found += narrow(tickets).values_list("id", flat=True)[:limit - len(found)]
    return found


def _first_matching_on_postgres(ordered_parts, tsquery: str, limit: int) -> list[int]:
    """PostgreSQL cannot estimate how many tickets a tsquery matches (prefix terms least of all),
    so it planned a walk of every open ticket for a rare word (0.3–1 s), or a sort of every
    match for a common one. We find out which case this is instead of guessing: check the
    queue's first WALK tickets in order, in growing steps, which finds a common word's page
    after a few hundred; a word that does not fill the page there is rare, so the GIN index
    lists its matches and the queue orders just those."""
    walk = _first_of_each(ordered_parts, WALK, lambda tickets: tickets)
    found, checked, step = [], 0, limit * 4
    while checked < len(walk):
        ids = walk[checked:checked + step]
        matched = _postgres_matches_among(ids, tsquery)
        found += [pk for pk in ids if pk in matched]
        if len(found) >= limit:
            return found[:limit]
        checked, step = checked + step, step * 4
    if len(walk) < WALK:
        return found  # that was the whole queue
    with connection.cursor() as cursor:
        cursor.execute("SELECT ticket_id FROM desk_ticket_search WHERE document @@ to_tsquery('english', %s)",
                       [tsquery])
        every_match = [pk for (pk,) in cursor.fetchall()]
    return _first_of_each(ordered_parts, limit, lambda tickets: tickets.filter(pk__in=every_match))


def _postgres_matches_among(ids: list[int], tsquery: str) -> set[int]:
    """Which of these tickets match, checked one by one through the primary key. The match is
    computed in the select list on purpose: as a WHERE condition the planner may prefer the
    GIN index and recheck thousands of documents (0.3 s for a common prefix)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.ticket_id, s.document @@ to_tsquery('english', %s) FROM unnest(%s::bigint[]) AS walked(id)"
            " JOIN desk_ticket_search s ON s.ticket_id = walked.id", [tsquery, ids])
        return {pk for pk, matches in cursor.fetchall() if matches}


def _filter_by_like(tickets, query):
    for term in query.terms:
        tickets = tickets.filter(
            Q(subject__icontains=term) | Q(messages__text__icontains=term) | Q(contact__name__icontains=term)
            | Q(contact__emails__email__icontains=term)
        )
    return tickets.distinct()
