"""Connection settings of the database layer."""
import re
import shutil

import pytest
from sqlalchemy import create_engine, event, func, select, text

from tests.conftest import require_postgresql
from tests.migrations import database_at
from webapp.cases.models import Case
from webapp.db import PARTIAL_INDEX_COLUMNS, Database, code_constant


def test_postgresql_connections_run_without_jit_and_keep_the_urls_options(tmp_path):
    """JIT compiling cost pages more than it saved; a search_path given in the URL still holds."""
    require_postgresql()
    with database_at("0001", "postgresql", tmp_path) as url:
        assert "options=" in url
        db = Database(url)
        try:
            with db.session() as s:
                assert s.execute(text("SHOW jit")).scalar() == "off"
                assert s.execute(text("SELECT current_schema()")).scalar().startswith("migration_0001")
        finally:
            db.dispose()


def _partial_index_columns(connection) -> set[tuple[str, str]]:
    """(table, column) named in the WHERE of each partial index of a migrated SQLite database."""
    found = set()
    for table, sql in connection.execute(text(
            "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")):
        condition = sql.split(" WHERE ", 1)[1]
        columns = [row[1] for row in connection.execute(text(f'PRAGMA table_info("{table}")'))]
        found |= {(table, c) for c in columns if re.search(rf"\b{re.escape(c)}\b", condition)}
    return found


def test_every_column_of_a_partial_index_is_known(sqlite_template):
    """The list that makes SQLite constants literal names exactly the columns of the partial
    indexes the migrations create: a new partial index must be added to it."""
    engine = create_engine(f"sqlite:///{sqlite_template}")
    try:
        with engine.connect() as connection:
            found = _partial_index_columns(connection)
    finally:
        engine.dispose()
    assert found and found == PARTIAL_INDEX_COLUMNS


def test_sqlite_writes_constants_of_partial_index_terms_into_the_statement(tmp_path, sqlite_template):
    """SQLite prepares a statement anew on every run when a parameter equals a partial index's
    constant; such constants are written into the SQL instead, quoted, and the rows are the same."""
    path = tmp_path / "t.db"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    statements = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, parameters, *_: statements.append((statement, parameters)))
    try:
        with db.transaction() as s:
            s.add(Case(reference="AG-1", title="t", status="active"))
        with db.session() as s:
            statements.clear()
            assert s.scalar(select(func.count()).select_from(Case).where(Case.status == "active")) == 1
            assert "cases.status = 'active'" in statements[-1][0]
            assert s.scalar(select(func.count()).select_from(Case).where(
                Case.status == "active' OR '1'='1")) == 0  # quoted, not run as SQL
            assert s.scalar(select(func.count()).select_from(Case).where(
                Case.status.in_(["active", "closed"]))) == 1
            assert "IN ('active', 'closed')" in statements[-1][0]
            statements.clear()
            s.scalar(select(Case.id).where(Case.reference == "AG-1"))
            assert "cases.reference = ?" in statements[-1][0]  # any other column: a parameter
    finally:
        db.dispose()


def test_code_constants_are_literals_of_the_cached_statement(sqlite_template):
    """``code_constant``: a constant of our code is part of the statement as built and compiled, so
    the access rule's statement needs no rendering per run; anything but a plain word is refused
    (never a way in for what a user or a diagram supplies)."""
    from webapp.tasks.queries import _task_page_statement

    for url in (f"sqlite:///{sqlite_template}", "postgresql+psycopg://"):
        engine = create_engine(url)
        for register_role, with_instance in ((False, True), (False, False), (True, True)):
            sql = str(_task_page_statement(register_role, (), with_instance).compile(engine))
            assert "POSTCOMPILE" not in sql and "'koordinator'" in sql and "'closed'" in sql
        engine.dispose()
    assert str(code_constant("koordinator")) == "'koordinator'"
    for bad in ("x' OR '1'='1", "a b", "", "ø;--"):
        with pytest.raises(ValueError):
            code_constant(bad)
