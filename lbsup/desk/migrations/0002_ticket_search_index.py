"""Full-text index of tickets (subject, customer-visible message text, contact name and emails),
kept current by database triggers so every writer (actions, bulk imports, the benchmark
seeder) is covered without remembering to reindex.

SQLite: an FTS5 table whose rowid is the ticket id. PostgreSQL: a tsvector per ticket with a
GIN index. Neither has a foreign key to tickets_ticket on purpose: test-database flushes
truncate Django's tables without CASCADE; delete triggers remove the rows instead.
lbsup/desk/search.py is the one interface over both."""

from django.db import migrations

SQLITE_CONTACT = """coalesce((SELECT coalesce(c.name, '') || ' ' || coalesce(
    (SELECT group_concat(e.email, ' ') FROM crm_contactemail e WHERE e.contact_id = c.id), '')
    FROM crm_contact c WHERE c.id = {ref}), '')"""
SQLITE_BODY = """coalesce((SELECT group_concat(m.text, char(10)) FROM tickets_message m
    WHERE m.ticket_id = {ref} AND m.direction <> 'note'), '')"""

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE desk_ticket_fts USING fts5(subject, body, contact, "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER desk_fts_ticket_insert AFTER INSERT ON tickets_ticket BEGIN
        DELETE FROM desk_ticket_fts WHERE rowid = NEW.id;
        INSERT INTO desk_ticket_fts(rowid, subject, body, contact)
        VALUES (NEW.id, NEW.subject, '', {SQLITE_CONTACT.format(ref="NEW.contact_id")});
    END""",
    f"""CREATE TRIGGER desk_fts_ticket_update AFTER UPDATE OF subject, contact_id ON tickets_ticket BEGIN
        UPDATE desk_ticket_fts SET subject = NEW.subject, contact = {SQLITE_CONTACT.format(ref="NEW.contact_id")}
        WHERE rowid = NEW.id;
    END""",
    """CREATE TRIGGER desk_fts_ticket_delete AFTER DELETE ON tickets_ticket BEGIN
        DELETE FROM desk_ticket_fts WHERE rowid = OLD.id;
    END""",
    """CREATE TRIGGER desk_fts_message_insert AFTER INSERT ON tickets_message WHEN NEW.direction <> 'note' BEGIN
        UPDATE desk_ticket_fts SET body = body || char(10) || NEW.text WHERE rowid = NEW.ticket_id;
    END""",
    f"""CREATE TRIGGER desk_fts_message_update AFTER UPDATE OF ticket_id, text, direction ON tickets_message BEGIN
        UPDATE desk_ticket_fts SET body = {SQLITE_BODY.format(ref="desk_ticket_fts.rowid")}
        WHERE rowid IN (OLD.ticket_id, NEW.ticket_id);
    END""",
    f"""CREATE TRIGGER desk_fts_message_delete AFTER DELETE ON tickets_message BEGIN
        UPDATE desk_ticket_fts SET body = {SQLITE_BODY.format(ref="desk_ticket_fts.rowid")}
        WHERE rowid = OLD.ticket_id;
    END""",
    f"""CREATE TRIGGER desk_fts_contact_update AFTER UPDATE OF name ON crm_contact BEGIN
        UPDATE desk_ticket_fts SET contact = {SQLITE_CONTACT.format(ref="NEW.id")}
        WHERE rowid IN (SELECT id FROM tickets_ticket WHERE contact_id = NEW.id);
    END""",
    f"""CREATE TRIGGER desk_fts_email_insert AFTER INSERT ON crm_contactemail BEGIN
        UPDATE desk_ticket_fts SET contact = {SQLITE_CONTACT.format(ref="NEW.contact_id")}
        WHERE rowid IN (SELECT id FROM tickets_ticket WHERE contact_id = NEW.contact_id);
    END""",
    f"""CREATE TRIGGER desk_fts_email_delete AFTER DELETE ON crm_contactemail BEGIN
        UPDATE desk_ticket_fts SET contact = {SQLITE_CONTACT.format(ref="OLD.contact_id")}
        WHERE rowid IN (SELECT id FROM tickets_ticket WHERE contact_id = OLD.contact_id);
    END""",
    f"""INSERT INTO desk_ticket_fts(rowid, subject, body, contact)
        SELECT t.id, t.subject, {SQLITE_BODY.format(ref="t.id")}, {SQLITE_CONTACT.format(ref="t.contact_id")}
        FROM tickets_ticket t""",
]
SQLITE_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS desk_fts_{name}" for name in (
        "ticket_insert", "ticket_update", "ticket_delete", "message_insert", "message_update", "message_delete",
        "contact_update", "email_insert", "email_delete")),
    "DROP TABLE IF EXISTS desk_ticket_fts",
]

POSTGRES_FORWARD = [
    "CREATE TABLE desk_ticket_search (ticket_id bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX desk_ticket_search_document ON desk_ticket_search USING GIN (document)",
    """CREATE FUNCTION desk_ticket_document(tid bigint) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT setweight(to_tsvector('english', coalesce(t.subject, '')), 'A')
            || setweight(to_tsvector('english', coalesce(c.name, '') || ' ' || coalesce(
                (SELECT string_agg(e.email || ' ' || translate(e.email, '@.', '  '), ' ')
                 FROM crm_contactemail e WHERE e.contact_id = c.id), '')), 'B')
            || to_tsvector('english', coalesce((SELECT string_agg(m.text, E'\\n') FROM tickets_message m
                WHERE m.ticket_id = t.id AND m.direction <> 'note'), ''))
        FROM tickets_ticket t JOIN crm_contact c ON c.id = t.contact_id WHERE t.id = tid
    $$""",
    """CREATE FUNCTION desk_refresh_ticket_search(tid bigint) RETURNS void LANGUAGE sql AS $$
        INSERT INTO desk_ticket_search(ticket_id, document)
        SELECT tid, desk_ticket_document(tid) WHERE EXISTS (SELECT 1 FROM tickets_ticket WHERE id = tid)
        ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document
    $$""",
    """CREATE FUNCTION desk_ticket_search_on_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM desk_ticket_search WHERE ticket_id = OLD.id;
        ELSE
            PERFORM desk_refresh_ticket_search(NEW.id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER desk_ticket_search_ticket AFTER INSERT OR DELETE OR UPDATE OF subject, contact_id
        ON tickets_ticket FOR EACH ROW EXECUTE FUNCTION desk_ticket_search_on_ticket()""",
    """CREATE FUNCTION desk_ticket_search_on_message() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            -- appending is enough for a new message and far cheaper than rebuilding
            IF NEW.direction <> 'note' THEN
                UPDATE desk_ticket_search SET document = document || to_tsvector('english', NEW.text)
                WHERE ticket_id = NEW.ticket_id;
            END IF;
            RETURN NULL;
        END IF;
        PERFORM desk_refresh_ticket_search(OLD.ticket_id);
        IF TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id THEN
            PERFORM desk_refresh_ticket_search(NEW.ticket_id);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER desk_ticket_search_message AFTER INSERT OR DELETE OR UPDATE OF ticket_id, text, direction
        ON tickets_message FOR EACH ROW EXECUTE FUNCTION desk_ticket_search_on_message()""",
    """CREATE FUNCTION desk_ticket_search_on_contact() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE cid bigint;
    BEGIN
        IF TG_TABLE_NAME = 'crm_contact' THEN cid := NEW.id;
        ELSIF TG_OP = 'DELETE' THEN cid := OLD.contact_id;
        ELSE cid := NEW.contact_id;
        END IF;
        PERFORM desk_refresh_ticket_search(t.id) FROM tickets_ticket t WHERE t.contact_id = cid;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER desk_ticket_search_contact AFTER UPDATE OF name ON crm_contact
        FOR EACH ROW EXECUTE FUNCTION desk_ticket_search_on_contact()""",
    """CREATE TRIGGER desk_ticket_search_email AFTER INSERT OR DELETE ON crm_contactemail
        FOR EACH ROW EXECUTE FUNCTION desk_ticket_search_on_contact()""",
    """INSERT INTO desk_ticket_search(ticket_id, document)
        SELECT id, desk_ticket_document(id) FROM tickets_ticket""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS desk_ticket_search_email ON crm_contactemail",
    "DROP TRIGGER IF EXISTS desk_ticket_search_contact ON crm_contact",
    "DROP TRIGGER IF EXISTS desk_ticket_search_message ON tickets_message",
    "DROP TRIGGER IF EXISTS desk_ticket_search_ticket ON tickets_ticket",
    "DROP FUNCTION IF EXISTS desk_ticket_search_on_contact()",
    "DROP FUNCTION IF EXISTS desk_ticket_search_on_message()",
    "DROP FUNCTION IF EXISTS desk_ticket_search_on_ticket()",
    "DROP FUNCTION IF EXISTS desk_refresh_ticket_search(bigint)",
    "DROP FUNCTION IF EXISTS desk_ticket_document(bigint)",
    "DROP TABLE IF EXISTS desk_ticket_search",
]

STATEMENTS = {"sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD), "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD)}


def _run(schema_editor, forward):
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return  # other databases: search.py falls back to LIKE
    for sql in statements[0 if forward else 1]:
        schema_editor.execute(sql, params=None)


def create_index(apps, schema_editor):
    _run(schema_editor, forward=True)


def drop_index(apps, schema_editor):
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0001_initial"),
        ("tickets", "0002_ticket_due_at_ticket_first_response_due_at_and_more"),
        ("crm", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
