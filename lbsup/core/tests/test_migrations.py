import os
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from .cli import run_lbsup


def test_it_has_no_model_changes_without_migrations(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)


def test_it_migrates_an_empty_sqlite_database(tmp_path):
    result = run_lbsup("migrate", "--noinput", env={"LBSUP_VAR_DIR": str(tmp_path)}, unset=["DATABASE_URL"])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lbsup.sqlite3").exists()
    shown = run_lbsup("showmigrations", "--plan", env={"LBSUP_VAR_DIR": str(tmp_path)}, unset=["DATABASE_URL"])
    assert "[ ]" not in shown.stdout and "[X]" in shown.stdout


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="runs in the PostgreSQL pass of .ci/run")
def test_it_migrates_an_empty_postgresql_database(tmp_path):
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    admin_dsn = f"host={db['HOST'] or 'localhost'} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"
    name = f"lbsup_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{db['USER']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"
        result = run_lbsup("migrate", "--noinput", env={"DATABASE_URL": url, "LBSUP_VAR_DIR": str(tmp_path)})
        assert result.returncode == 0, result.stderr
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
