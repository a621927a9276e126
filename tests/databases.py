"""Databases for tests: a fresh SQLite file by default, or a fresh PostgreSQL database.

With ``PERSONAPULSE_TEST_DATABASE_URL=postgresql://…`` (``make test-postgres`` starts a throwaway
server and sets it), every test that asks for a database gets its own, copied with
``CREATE DATABASE … TEMPLATE`` from one database the migrations built (once per set of migrations).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from personapulse.store import MIGRATIONS_DIR, Store
from personapulse.store.engine import normalise_url

ENV = "PERSONAPULSE_TEST_DATABASE_URL"
# Session-level advisory lock held while a template or a path's database is created.
_CREATE_LOCK = 0x50505447


def server_url() -> str | None:
    """The PostgreSQL server the tests run against, or None for SQLite."""
    return os.environ.get(ENV) or None


def _admin():
    return create_engine(
        normalise_url(server_url()), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def _url_of(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def _template_name() -> str:
    """One template per content of the migrations: a changed migration builds a new one."""
    digest = hashlib.sha1()
    for path in sorted(MIGRATIONS_DIR.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"pp_template_{digest.hexdigest()[:12]}"


_template: str | None = None


def _exists(conn, name: str) -> bool:
    return (
        conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        is not None
    )


def _ensure_template(conn) -> str:
    """Migrate an empty database once (the migrations themselves run on PostgreSQL here)."""
    global _template
    if _template is not None:
        return _template
    name = _template_name()
    if not _exists(conn, name):
        building = f"{name}_build"
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{building}" TEMPLATE template0')
        store = Store(_url_of(building))
        try:
            store.migrate()
        finally:
            store.dispose()
        conn.exec_driver_sql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    _template = name
    return name


def _create(name: str, *, if_missing: bool = False) -> None:
    with _admin().connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _CREATE_LOCK})
        try:
            template = _ensure_template(conn)
            if not (if_missing and _exists(conn, name)):
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _CREATE_LOCK})


def fresh_database_url(tmp_path: Path) -> str:
    """A new, migrated, empty database for one test."""
    if server_url() is None:
        return f"sqlite:///{tmp_path / 'personapulse.sqlite'}"
    name = f"pp_{secrets.token_hex(6)}"
    _create(name)
    return _url_of(name)


def empty_database_url(tmp_path: Path) -> str:
    """A new database without any table (for the migrations' own tests)."""
    if server_url() is None:
        return f"sqlite:///{tmp_path / 'empty.sqlite'}"
    name = f"pp_empty_{secrets.token_hex(6)}"
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return _url_of(name)


def database_url_for(folder: Path) -> str:
    """The database belonging to ``folder``: the same one every time (a restarted service finds its
    data again). SQLite: a file in the folder; PostgreSQL: a database named after the folder."""
    if server_url() is None:
        return f"sqlite:///{folder / 'personapulse.sqlite'}"
    name = "pp_dir_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
    _create(name, if_missing=True)
    return _url_of(name)


def drop_database(url: str) -> None:
    """Remove a test's PostgreSQL database (connections still open are closed by the server)."""
    if server_url() is None or make_url(url).get_backend_name() != "postgresql":
        return
    name = make_url(url).database
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
