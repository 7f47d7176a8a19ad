"""The `lbsup` command: Django's management commands plus the product's own."""

import os
import sys


def _database_label():
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite file {db['NAME']}"
    return f"DATABASE_URL (postgresql://{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db.get('NAME')})"


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "lbsup"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")

    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import InterfaceError, OperationalError

    try:
        import django

        django.setup()
    except ImproperlyConfigured as e:
        # Configuration mistakes get one line naming the variable, not a traceback.
        print(f"lbsup: {e}", file=sys.stderr)
        return 2

    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(argv)
    except (OperationalError, InterfaceError) as e:
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        print(f"lbsup: cannot use the database at {_database_label()}: {first_line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
