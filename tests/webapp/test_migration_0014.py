"""Migration 0014: what a case keeps for the cockpit (a coordinator, its last held meeting and the
day it falls due for the next, which consent is superseded), filled from the rows and the stored
meeting interval, with the rules' indexes; up and down on both databases."""
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.migrate import alembic_config, upgrade

NEW_INDEXES = {"cases": {"ix_cases_meeting_due_on", "ix_cases_no_coordinator_day"},
               "consents": {"ix_consents_renewal_day"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0013(request, tmp_path):
    with database_at("0013", request.param, tmp_path) as url:
        yield url


def _seed(engine) -> None:
    """Case 7: active since 31 August 2026 (Oslo), its coordinator gone, one meeting held on
    15 January 2027 and one only planned, two consents. Case 8: active, with a coordinator and no
    meeting. The municipality meets every 3 months."""
    activated = datetime(2026, 8, 30, 22, 30, tzinfo=timezone.utc)  # 31 August in Oslo
    held = datetime(2027, 1, 15, 9, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO settings (key, value, updated_at) VALUES "
                             "('meeting_interval_months', '3', :t)"), {"t": activated})
        for case_id in (7, 8):
            conn.execute(sa.text("INSERT INTO cases (id, reference, title, status, activated_at, created_at) "
                                 "VALUES (:id, :ref, 'Gruppe', 'active', :t, :t)"),
                         {"id": case_id, "ref": f"AG-{case_id}", "t": activated})
        conn.execute(sa.text("INSERT INTO case_members (case_id, name, role, active, mandate_clarified, created_at) "
                             "VALUES (7, 'Kari', 'koordinator', :no, :no, :t), (7, 'Siri', 'medlem', :yes, :no, :t), "
                             "(8, 'Ola', 'koordinator', :yes, :no, :t)"), {"t": activated, "yes": True, "no": False})
        conn.execute(sa.text("INSERT INTO meetings (case_id, number, status, held_at, duration_minutes, agenda, "
                             "agenda_agreed_with_person, invitation_sequence, created_at) VALUES "
                             "(7, 1, 'approved', :held, 60, '[]', :no, 0, :t), "
                             "(7, 2, 'planned', NULL, 60, '[]', :no, 0, :t)"),
                     {"held": held, "t": activated, "no": False})
        for consent_id in (1, 2):
            conn.execute(sa.text("INSERT INTO consents (id, case_id, given, statement_composition, "
                                 "statement_confidential, statement_registration, statement_voluntary, signed_by, "
                                 "signed_how, signed_on, valid_until, composition, recorded_at) VALUES (:id, 7, :yes, "
                                 ":yes, :yes, :yes, :yes, 'Emma', 'paper', :on, :until, '[]', :t)"),
                         {"id": consent_id, "yes": True, "on": date(2026, 8, 1), "until": date(2027, 8, 1),
                          "t": activated})


def test_up_fills_and_down(url_at_0013):
    engine = sa.create_engine(url_at_0013)
    try:
        _seed(engine)
        upgrade(url_at_0013, "0014")
        with engine.connect() as conn:
            cases = {row.id: row for row in conn.execute(sa.text(
                "SELECT id, has_coordinator, last_meeting_at, meeting_due_on FROM cases"))}
            superseded = dict(conn.execute(sa.text("SELECT id, superseded FROM consents")).all())
        assert not cases[7].has_coordinator and cases[8].has_coordinator
        assert str(cases[7].last_meeting_at).startswith("2027-01-15") and cases[8].last_meeting_at is None
        # three months after the meeting, and (no meeting yet) after the activation's Oslo day
        assert str(cases[7].meeting_due_on) == "2027-04-15" and str(cases[8].meeting_due_on) == "2026-11-30"
        assert {k: bool(v) for k, v in superseded.items()} == {1: True, 2: False}
        for table, names in NEW_INDEXES.items():
            assert names <= {i["name"] for i in sa.inspect(engine).get_indexes(table)}
        # the columns as the models have them (the day indexes on PostgreSQL are expression
        # indexes the models cannot state)
        diffs = differences_from_models(url_at_0013, "has_coordinator", "last_meeting_at", "meeting_due_on",
                                        "superseded", "ix_cases_meeting_due_on")
        assert [d for d in diffs if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
                                         and d[1].name != "ix_cases_meeting_due_on")] == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0013), "0013")
        assert not {"has_coordinator", "last_meeting_at", "meeting_due_on"} & {
            c["name"] for c in sa.inspect(engine).get_columns("cases")}
        assert "superseded" not in {c["name"] for c in sa.inspect(engine).get_columns("consents")}
    finally:
        engine.dispose()
