"""Create a service's database if needed and apply its migrations (yoyo, plain SQL files).

    python -m backbone.migrate registry [--drop-first]
    python -m backbone.migrate --all

Every service database gets the backbone's own migrations (outbox, inbox) and then its own
``services/<name>/migrations``.
"""
import argparse
import logging
import pathlib
import urllib.parse

import psycopg2
from psycopg2 import sql
from yoyo import get_backend, read_migrations

from backbone import config
from backbone.logs import configure_logging

ROOT = pathlib.Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def migration_dirs(service):
    return [ROOT / "backbone" / "migrations", ROOT / "services" / service / "migrations"]


def _split(url):
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    return maintenance, name


def _admin_execute(url, statement):
    maintenance, _ = _split(url)
    conn = psycopg2.connect(maintenance)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def database_exists(url):
    maintenance, name = _split(url)
    with psycopg2.connect(maintenance) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        found = cursor.fetchone() is not None
    conn.close()
    return found


def create_database(url):
    if not database_exists(url):
        _, name = _split(url)
        _admin_execute(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        log.info("database created", extra={"database": name})


def drop_database(url):
    _, name = _split(url)
    _admin_execute(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(name)))


def migrate(service, url=None, dirs=None):
    url = url or config.database_url(service)
    create_database(url)
    backend = get_backend(url)
    migrations = read_migrations(*map(str, dirs or migration_dirs(service)))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    log.info("migrations applied", extra={
        "service": service, "applied": [m.id for m in pending]})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="*")
    parser.add_argument("--all", action="store_true", help="every service in config.SERVICES")
    parser.add_argument("--drop-first", action="store_true",
                        help="drop the database before migrating (tests only)")
    args = parser.parse_args()
    if not (args.services or args.all):
        parser.error("name the services to migrate, or --all")
    configure_logging("migrate")
    for service in args.services or config.SERVICES:
        if args.drop_first:
            drop_database(config.database_url(service))
        migrate(service)


if __name__ == "__main__":
    main()
