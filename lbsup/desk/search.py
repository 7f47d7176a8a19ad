"""Full-text search over tickets (subject, customer-visible message text, contact name and
emails) behind one interface: PostgreSQL full-text search on PostgreSQL, FTS5 on SQLite, and
a plain LIKE scan anywhere else. The indexes are kept by triggers (migration 0002).

Whatever the person types is reduced to word tokens before it reaches the database, so no
query syntax (quotes, NEAR, column filters, tsquery operators) can be injected: every word
must match, and the last one matches as a prefix, which is what a search box feels like."""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

MAX_TERMS = 12
MAX_TERM_LENGTH = 64


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


def _filter_by_like(tickets, query):
    for term in query.terms:
        tickets = tickets.filter(
            Q(subject__icontains=term) | Q(messages__text__icontains=term) | Q(contact__name__icontains=term)
            | Q(contact__emails__email__icontains=term)
        )
    return tickets.distinct()
