"""A database at an older Alembic revision, to test a migration from it (both kinds)."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from tests.conftest import _pg_state, require_postgresql
from webapp.migrate import upgrade


@contextmanager
def database_at(revision: str, kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database upgraded to ``revision``; PostgreSQL: a schema of its own in the
    test database, dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'migration.db'}"
        upgrade(url, revision)
        yield url
        return
    require_postgresql()
    schema = f"migration_{revision}_{os.getpid()}"
    admin = sa.create_engine(_pg_state["url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{_pg_state['url']}?options=-csearch_path%3D{schema}"
        upgrade(url, revision)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def differences_from_models(url: str, *names: str) -> list:
    """What Alembic's autogenerate finds between the models and the migrated schema, limited to
    differences that mention one of ``names`` (tables or indexes a migration made)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import webapp.models  # noqa: F401  (every table in Base.metadata)
    from webapp.db import Base

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    # whole names only: ix_persons_national_id is not ix_persons_national_id_digest (a later one)
    return [d for d in diffs if any(re.search(rf"\b{re.escape(name)}\b", repr(d)) for name in names)]
