"""Rows written without the ORM's per-call query building, for the hot path of a batch of mail.

Django spends ≈ 0.2 ms of Python building one INSERT of a ticket or a message before the database
sees it, as much as taking the mail apart (bench/README.md, "Ingest"). These helpers keep what the
ORM does to the values (defaults, auto_now, get_db_prep_save) and skip the rest: they send no
pre_save/post_save signals, so use them only for models that nothing listens to."""

from functools import cache

from django.db import connections, router


def _connection(model):
    return connections[router.db_for_write(model)]


@cache
def _insert_sql(model, alias):
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field and not field.generated]
    quote = connections[alias].ops.quote_name
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    return fields, sql, f"{sql} RETURNING {quote(meta.auto_field.column)}"


def _insert_values(obj, fields, connection):
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def insert_row(obj):
    """obj.save() for a new row: INSERT … RETURNING its id (SQLite ≥ 3.35, PostgreSQL)."""
    model = type(obj)
    connection = _connection(model)
    fields, _, returning_id = _insert_sql(model, connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(returning_id, _insert_values(obj, fields, connection))
        obj.pk = cursor.fetchone()[0]
    obj._state.adding, obj._state.db = False, connection.alias
    return obj


def insert_rows(model, objects):
    """bulk_create for rows whose ids nobody reads back (an audit trail): one executemany."""
    if not objects:
        return
    connection = _connection(model)
    fields, sql, _ = _insert_sql(model, connection.alias)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_insert_values(obj, fields, connection) for obj in objects])


def update_rows(model, objects, fields):
    """Write each object's current values of `fields` (field names) to its row, one UPDATE shape
    for all of them in one executemany. Django's bulk_update builds a CASE expression per field
    over all the rows instead (130 ms for 100 tickets)."""
    if not objects:
        return
    connection = _connection(model)
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(field.column)} = %s' for field in columns)} "
           f"WHERE {quote(meta.pk.column)} = %s")
    rows = [[field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns] + [obj.pk]
            for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
