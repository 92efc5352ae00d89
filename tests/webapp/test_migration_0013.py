"""Migration 0013: a case's status since, an incident's case (filled from the history and the
instances) and their day indexes, up and down on both databases."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0012(request, tmp_path):
    with database_at("0012", request.param, tmp_path) as url:
        yield url


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def _seed(engine) -> None:
    """A case that waits for consent since 2 October, with an open incident."""
    t1, t2 = datetime(2026, 10, 1, 8, tzinfo=timezone.utc), datetime(2026, 10, 2, 9, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO cases (id, reference, title, status, created_at) "
                             "VALUES (7, 'AG-1', 'Gruppe', 'awaiting_consent', :t)"), {"t": t1})
        conn.execute(sa.text("INSERT INTO case_status_changes (case_id, to_status, at) VALUES "
                             "(7, 'requested', :t1), (7, 'awaiting_consent', :t2)"), {"t1": t1, "t2": t2})
        conn.execute(sa.text("INSERT INTO process_definitions (id, process_id, name, version, content_hash, "
                             "source_name, documents, forms, created_at) VALUES (1, 'p', 'P', 1, 'h', 'p.bpmn', "
                             "'{}', '{}', :t)"), {"t": t1})
        conn.execute(sa.text("INSERT INTO process_instances (id, case_id, definition_id, status, state, "
                             "lock_version, created_at, updated_at) VALUES (3, 7, 1, 'incident', '{}', 1, :t, :t)"),
                     {"t": t1})
        conn.execute(sa.text("INSERT INTO incidents (id, instance_id, status, message, pending, created_at) "
                             "VALUES (5, 3, 'open', 'feil', '{}', :t)"), {"t": t2})


def test_up_fills_and_down(url_at_0012):
    engine = sa.create_engine(url_at_0012)
    try:
        _seed(engine)
        upgrade(url_at_0012, "0013")
        with engine.connect() as conn:
            since = conn.execute(sa.text("SELECT status_since FROM cases WHERE id = 7")).scalar()
            assert conn.execute(sa.text("SELECT case_id FROM incidents WHERE id = 5")).scalar() == 7
        assert str(since).startswith("2026-10-02")
        assert "ix_cases_awaiting_consent_day" in {i["name"] for i in sa.inspect(engine).get_indexes("cases")}
        assert "ix_incidents_open_day" in {i["name"] for i in sa.inspect(engine).get_indexes("incidents")}
        # the columns and the key as the models have them (the day indexes are the migration's own:
        # expression indexes on PostgreSQL that the models cannot state, plain ones on SQLite)
        diffs = differences_from_models(url_at_0012, "status_since", "case_id", "fk_incidents_case_id_cases")
        assert [d for d in diffs if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index"))] == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0012), "0012")
        assert "status_since" not in _columns(engine, "cases") and "case_id" not in _columns(engine, "incidents")
    finally:
        engine.dispose()
