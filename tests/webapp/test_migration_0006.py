"""Migration 0006: the workbench's tables and the version note, up and down, matching the models;
an old version's content may be published again."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0005(request, tmp_path):
    with database_at("0005", request.param, tmp_path) as url:
        yield url


def _insert_version(conn, version: int) -> None:
    conn.execute(sa.text(
        "INSERT INTO process_definitions (process_id, name, version, content_hash, source_name, documents, forms,"
        " created_at) VALUES ('p', 'P', :v, 'same', 'p.bpmn', '{}', '{}', CURRENT_TIMESTAMP)"), {"v": version})


def test_up_and_down(url_at_0005):
    engine = sa.create_engine(url_at_0005)
    try:
        with engine.begin() as conn:
            _insert_version(conn, 1)
        upgrade(url_at_0005, "0006")
        inspector = sa.inspect(engine)
        assert {"process_drafts", "migration_runs"} <= set(inspector.get_table_names())
        assert {"note", "published_by_id"} <= {c["name"] for c in inspector.get_columns("process_definitions")}
        with engine.begin() as conn:  # a restored version has the content of an older one
            _insert_version(conn, 2)
            assert conn.scalar(sa.text("SELECT count(*) FROM process_definitions")) == 2
        assert differences_from_models(url_at_0005, "process_drafts", "migration_runs", "process_definitions") == []
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM process_definitions WHERE version = 2"))
        engine.dispose()
        command.downgrade(alembic_config(url_at_0005), "0005")
        inspector = sa.inspect(engine)
        assert not {"process_drafts", "migration_runs"} & set(inspector.get_table_names())
        assert "note" not in {c["name"] for c in inspector.get_columns("process_definitions")}
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            _insert_version(conn, 3)
    finally:
        engine.dispose()
