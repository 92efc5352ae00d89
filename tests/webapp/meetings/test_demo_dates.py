"""The demo's meeting data keeps its dates in order (issue 10 §1): no minutes before their
meeting, measure deadlines not before the meeting that agreed them (or, for the individual plan's
own measures, not before they were written), the next meeting after the
last, and at most one reminder per overdue measure. SQLite and PostgreSQL."""
from pathlib import Path

from sqlalchemy import select

from webapp.engine.operations import deploy_library

from webapp.clock import OSLO
from webapp.demo import seed
from webapp.meetings.models import Measure, Meeting, Minutes
from webapp.outbox.models import OutboxMessage


def test_demo_meetings_are_in_order(app, services):
    root = Path(__file__).resolve().parents[3]
    deploy_library(services.db, services.clock, root / "processes", root / "forms", sorted(services.engine.handlers))
    assert seed(app)
    now = services.clock.now()
    with services.db.session() as s:
        held = s.scalars(select(Meeting).join(Minutes, Minutes.meeting_id == Meeting.id)).all()
        assert held  # the demo has minutes to check
        for meeting in held:
            assert meeting.starts_at <= meeting.held_at <= now, meeting.number
        measures = s.scalars(select(Measure)).all()
        assert any(m.meeting_id is None for m in measures)  # the individual plan's own measures
        for measure in measures:
            if measure.meeting_id is None:  # a measure written in the plan: not before it was written
                assert measure.goal_id is not None
                assert measure.deadline >= measure.created_at.astimezone(OSLO).date()
                continue
            meeting = s.get(Meeting, measure.meeting_id)
            assert measure.deadline >= meeting.starts_at.astimezone(OSLO).date()
        for meeting in s.scalars(select(Meeting).where(Meeting.held_at.is_(None), Meeting.starts_at.is_not(None))):
            earlier = [m for m in held if m.case_id == meeting.case_id]
            if earlier:  # the next meeting: after the last one, and ahead
                assert all(meeting.starts_at > m.starts_at for m in earlier) and meeting.starts_at > now
        reminders = [o.subject for o in s.scalars(select(OutboxMessage)) if o.subject.startswith("Påminnelse: tiltak")]
    assert len(reminders) == len(set(reminders)) == 1  # the overdue measure: one reminder, not a burst
