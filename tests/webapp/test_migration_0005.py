"""Migration 0005: the indexes of issue 11, up and down, matching the models."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade

#: table -> (index name, columns) added by the migration
INDEXES = [
    ("access_log", "ix_access_log_case_id_at_id", ["case_id", "at", "id"]),
    ("cases", "ix_cases_previous_case_id", ["previous_case_id"]),
    ("case_status_changes", "ix_case_status_changes_to_status_at", ["to_status", "at"]),
    ("persons", "ix_persons_national_id", ["national_id"]),
    ("open_tasks", "ix_open_tasks_due_at", ["due_at"]),
    ("open_tasks", "ix_open_tasks_orphaned", ["orphaned"]),
]
TABLES = sorted({table for table, _name, _columns in INDEXES})


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0004(request, tmp_path):
    """An empty database at revision 0004."""
    with database_at("0004", request.param, tmp_path) as url:
        yield url


def indexes(url) -> dict[str, dict]:
    """index name -> reflected index, over the tables of the migration"""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {ix["name"]: ix for table in TABLES for ix in inspector.get_indexes(table)}
    finally:
        engine.dispose()


def test_indexes_up_and_down(url_at_0004):
    before = indexes(url_at_0004)
    assert not {name for _table, name, _columns in INDEXES} & set(before)
    upgrade(url_at_0004, "0005")
    after = indexes(url_at_0004)
    for _table, name, columns in INDEXES:
        assert after[name]["column_names"] == columns
    # the access log's index runs newest first
    sorting = after["ix_access_log_case_id_at_id"].get("column_sorting", {})
    if url_at_0004.startswith("postgresql"):
        assert sorting == {"at": ("desc",), "id": ("desc",)}
    assert differences_from_models(url_at_0004, *(name for _table, name, _columns in INDEXES)) == []
    command.downgrade(alembic_config(url_at_0004), "0004")
    assert indexes(url_at_0004) == before
