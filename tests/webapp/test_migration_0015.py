"""Migration 0015: a case's last meeting is the held meeting's own date (when its minutes were
recorded if it has none), and the day the group falls due counts from it; down again counts from
the minutes. Both databases."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at
from webapp.migrate import alembic_config, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0014(request, tmp_path):
    with database_at("0014", request.param, tmp_path) as url:
        yield url


def _kept(engine) -> dict[int, tuple[str, str]]:
    with engine.connect() as conn:
        return {row.id: (str(row.last_meeting_at)[:10], str(row.meeting_due_on)) for row in conn.execute(
            sa.text("SELECT id, last_meeting_at, meeting_due_on FROM cases ORDER BY id"))}


def test_up_counts_from_the_meetings_own_date_and_down_from_its_minutes(url_at_0014):
    """Case 7 met on 15 January 2027 and its minutes were recorded on 25 January; case 8's only
    held meeting has no date of its own (its minutes: 3 February). Meetings every 3 months."""
    engine = sa.create_engine(url_at_0014)
    activated = datetime(2026, 8, 30, 22, 30, tzinfo=timezone.utc)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO settings (key, value, updated_at) VALUES "
                                 "('meeting_interval_months', '3', :t)"), {"t": activated})
            for case_id in (7, 8):
                conn.execute(sa.text("INSERT INTO cases (id, reference, title, status, activated_at, created_at, "
                                     "has_coordinator) VALUES (:id, :ref, 'Gruppe', 'active', :t, :t, :no)"),
                             {"id": case_id, "ref": f"AG-{case_id}", "t": activated, "no": False})
            conn.execute(sa.text(
                "INSERT INTO meetings (case_id, number, status, starts_at, held_at, duration_minutes, agenda, "
                "agenda_agreed_with_person, invitation_sequence, created_at) VALUES "
                "(7, 1, 'approved', :met, :minutes7, 60, '[]', :no, 0, :t), "
                "(8, 1, 'held', NULL, :minutes8, 60, '[]', :no, 0, :t)"),
                {"met": datetime(2027, 1, 15, 9, tzinfo=timezone.utc),
                 "minutes7": datetime(2027, 1, 25, 9, tzinfo=timezone.utc),
                 "minutes8": datetime(2027, 2, 3, 9, tzinfo=timezone.utc), "t": activated, "no": False})
        upgrade(url_at_0014, "0015")
        assert _kept(engine) == {7: ("2027-01-15", "2027-04-15"), 8: ("2027-02-03", "2027-05-03")}
        engine.dispose()
        command.downgrade(alembic_config(url_at_0014), "0014")
        assert _kept(engine) == {7: ("2027-01-25", "2027-04-25"), 8: ("2027-02-03", "2027-05-03")}
    finally:
        engine.dispose()
