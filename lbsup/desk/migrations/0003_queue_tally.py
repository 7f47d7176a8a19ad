"""Queue counts kept by triggers (see QueueTally): every insert, delete, or change of a
ticket's workspace, status, team, category or assignee appends +1/−1 rows, whoever writes
(actions, bulk imports, the benchmark seeder). The tally starts from the tickets already there."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BUCKET_COLUMNS = ("workspace_id", "status", "team_id", "category", "assignee_id")
BUCKET = ", ".join(BUCKET_COLUMNS)


def bucket_of(ref):
    return ", ".join(f"{ref}.{column}" for column in BUCKET_COLUMNS)


def tally_row(ref, tickets):
    return f"INSERT INTO desk_queuetally({BUCKET}, tickets) VALUES ({bucket_of(ref)}, {tickets})"


BACKFILL = f"INSERT INTO desk_queuetally({BUCKET}, tickets) SELECT {BUCKET}, count(*) FROM tickets_ticket GROUP BY {BUCKET}"

SQLITE_FORWARD = [
    f"""CREATE TRIGGER desk_tally_ticket_insert AFTER INSERT ON tickets_ticket BEGIN
        {tally_row("NEW", 1)};
    END""",
    f"""CREATE TRIGGER desk_tally_ticket_delete AFTER DELETE ON tickets_ticket BEGIN
        {tally_row("OLD", -1)};
    END""",
    f"""CREATE TRIGGER desk_tally_ticket_update AFTER UPDATE OF {BUCKET} ON tickets_ticket
    WHEN {" OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in BUCKET_COLUMNS)}
    BEGIN
        {tally_row("OLD", -1)};
        {tally_row("NEW", 1)};
    END""",
    BACKFILL,
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS desk_tally_ticket_{op}" for op in ("insert", "delete", "update")]

POSTGRES_FORWARD = [
    f"""CREATE FUNCTION desk_tally_on_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {tally_row("OLD", -1)};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {tally_row("NEW", 1)};
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER desk_tally_ticket_insert_delete AFTER INSERT OR DELETE ON tickets_ticket
        FOR EACH ROW EXECUTE FUNCTION desk_tally_on_ticket()""",
    f"""CREATE TRIGGER desk_tally_ticket_update AFTER UPDATE OF {BUCKET} ON tickets_ticket FOR EACH ROW
        WHEN (({bucket_of("OLD")}) IS DISTINCT FROM ({bucket_of("NEW")}))
        EXECUTE FUNCTION desk_tally_on_ticket()""",
    BACKFILL,
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS desk_tally_ticket_update ON tickets_ticket",
    "DROP TRIGGER IF EXISTS desk_tally_ticket_insert_delete ON tickets_ticket",
    "DROP FUNCTION IF EXISTS desk_tally_on_ticket()",
]

STATEMENTS = {"sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD), "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD)}


def _run(schema_editor, forward):
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        raise NotImplementedError("queue counts are kept by triggers written for SQLite and PostgreSQL only")
    for sql in statements[0 if forward else 1]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor):
    _run(schema_editor, forward=True)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('desk', '0002_ticket_search_index'),
        ('tickets', '0003_queue_order_index'),
        ('workspaces', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='QueueTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(max_length=16)),
                ('category', models.CharField(max_length=64)),
                ('tickets', models.IntegerField(help_text='tickets this row adds to its bucket (negative when they left)')),
                ('assignee', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('team', models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workspaces.team')),
                ('workspace', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='workspaces.workspace')),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
