"""Seed data built once per test session and database kind, then copied into each test's database.

Deploying the process library (reading, parsing and validating every diagram and form) or walking
a dozen groups through the domain operations costs far more than inserting the rows they produce.
:func:`seeded` runs a seeding function for real the first time (on that test's own, empty database,
SQLite or PostgreSQL), keeps the rows it added, and in later tests inserts those rows instead: the
same ids (PostgreSQL's sequences follow), the same content, and the test clock's "now" for the
timestamps of seeding functions that write the clock's now.
"""
from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa

import webapp.models  # noqa: F401  (every table in the metadata)
from webapp.clock import Clock
from webapp.db import Base, Database

#: (key, dialect) -> (rows the seeding added per table, what it returned)
_snapshots: dict[tuple, tuple[dict[str, list[dict]], Any]] = {}


def _rows(db: Database) -> dict[str, dict[tuple, dict]]:
    found = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            key = list(table.primary_key.columns)
            found[table.name] = {tuple(row[c.name] for c in key): dict(row)
                                 for row in conn.execute(table.select().order_by(*key)).mappings()}
    return found


def _restore(db: Database, rows: dict[str, list[dict]], now: datetime | None) -> None:
    """Insert the rows, with ``now`` (if given) for every timestamp."""
    with db.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:  # parents first
            table_rows = rows.get(table.name)
            if table_rows and now is not None:
                table_rows = [{k: now if isinstance(v, datetime) else v for k, v in row.items()}
                              for row in table_rows]
            if table_rows:
                conn.execute(table.insert(), table_rows)
        if db.dialect == "postgresql":  # explicit ids leave the sequences behind
            for name in rows:
                if "id" in Base.metadata.tables[name].c:  # no sequence: setval(NULL, …) is NULL
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                         f"(SELECT max(id) FROM \"{name}\"))"))


def seeded(services, key: tuple, seed: Callable[[Database, Clock], Any], *, at_now: bool = True) -> Any:
    """What ``seed(services.db, services.clock)`` writes, in the services' (empty) database; returns
    what ``seed`` returned. ``key`` names the seeding with everything it depends on.
    ``at_now``: every timestamp ``seed`` writes is the clock's now (a copy gets the services' clock's
    now); otherwise ``seed`` writes only fixed times, and they are copied as they are."""
    snapshot_key = (*key, services.db.dialect)
    if snapshot_key not in _snapshots:
        before = _rows(services.db)
        result = seed(services.db, services.clock)
        added = {name: [row for pk, row in rows.items() if pk not in before[name]]
                 for name, rows in _rows(services.db).items()}
        _snapshots[snapshot_key] = ({name: rows for name, rows in added.items() if rows}, copy.deepcopy(result))
        return result
    rows, result = _snapshots[snapshot_key]
    _restore(services.db, rows, services.clock.now() if at_now else None)
    return copy.deepcopy(result)  # callers add to it
