"""`--database URL` and `openrek db migrate`: which database, and its schema ahead of a roll-out."""

from __future__ import annotations

import argparse
from pathlib import Path

from openrek.config import Settings


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="sqlite:///PATH (default: DATA_DIR/openrek.sqlite3) or postgresql://USER@HOST:PORT/DB "
        "shared by many servers and workers (also OPENREK_DATABASE_URL)",
    )


def add_database_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="the database's schema")
    db.add_argument("db_command", choices=["migrate", "version"])
    db.add_argument("--data-dir", type=Path, default=None)
    add_database_option(db)
    db.set_defaults(run=_db)


def _db(args: argparse.Namespace) -> int:
    settings = Settings.from_env(data_dir=args.data_dir, database_url=args.database)
    database = settings.database
    if database.postgres_url is None:
        # SQLite files are created and upgraded by whichever process opens them first.
        from openrek.storage.backends import open_face_store

        open_face_store(database).close()
        print(f"{database.describe()}: up to date (SQLite migrates itself when opened)")
        return 0
    import psycopg

    from openrek.storage.base import StoreUnavailable
    from openrek.storage.postgres.migrations import LATEST, current_version, migrate

    try:
        with psycopg.connect(database.postgres_url, autocommit=True, connect_timeout=10) as conn:
            if args.db_command == "version":
                print(
                    f"{database.describe()}: schema version {current_version(conn)} (this openrek: {LATEST})"
                )
                return 0
            applied = migrate(conn)
    except psycopg.OperationalError as error:
        raise StoreUnavailable(f"cannot reach {database.describe()}: {error}") from None
    done = ", ".join(str(v) for v in applied) if applied else "none needed"
    print(f"{database.describe()}: migrations applied: {done}; schema version {LATEST}")
    return 0
