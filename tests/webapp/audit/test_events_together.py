"""``events_together``: the audit events a worker batch records are written in one statement at
the end of the block, in their order, and not at all if the block fails. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.statements import counting
from webapp.audit.models import AuditEvent
from webapp.audit.operations import events_together, record


def _kinds(services) -> list[str]:
    with services.db.session() as s:
        return list(s.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def test_the_blocks_events_are_written_in_one_statement_in_their_order(services):
    now = services.clock.now()
    with services.db.transaction() as s:
        with counting(services.db.engine) as counts:
            with events_together(s):
                assert record(s, "first", at=now, n=1) is None
                record(s, "second", at=now, n=2)
                record(s, "third", at=now, n=3)
                assert counts.statements == []  # kept until the block ends
        assert len(counts) == 1 and counts.statements[0].startswith("INSERT INTO audit_events")
        assert isinstance(record(s, "after", at=now), int)  # outside the block: at once, with its id
    assert _kinds(services) == ["first", "second", "third", "after"]


def test_a_failing_block_writes_none_of_its_events(services):
    now = services.clock.now()
    with services.db.transaction() as s:
        with pytest.raises(ValueError):
            with events_together(s):
                record(s, "lost", at=now)
                raise ValueError("the batch failed")
        record(s, "kept", at=now)
    assert _kinds(services) == ["kept"]
