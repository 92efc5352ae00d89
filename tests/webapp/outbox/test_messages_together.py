"""``messages_together``: the e-mails a worker batch queues are written together at its end (one
INSERT on PostgreSQL), in their order, and not at all if the block fails. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.statements import counting
from webapp.outbox.models import OutboxMessage
from webapp.outbox.operations import Outbox, messages_together


def _recipients(services) -> list[str]:
    with services.db.session() as s:
        return list(s.scalars(select(OutboxMessage.recipient).order_by(OutboxMessage.id)))


def test_the_blocks_messages_are_written_together_in_their_order(services):
    addresses = ["a@example.org", "b@example.org", "c@example.org"]
    with counting(services.db.engine) as counts:
        with services.db.transaction() as s:
            outbox = Outbox(s, services.clock, None)
            with messages_together(s):
                for address in addresses:
                    outbox.send(address, "Hei", "Tekst", plain=True)
                    s.flush()  # a step's own flush does not write what the block keeps
            assert not any(sql.startswith("INSERT INTO outbox_messages") for sql in counts.statements)
    inserts = [sql for sql in counts.statements if sql.startswith("INSERT INTO outbox_messages")]
    # SQLite does not promise RETURNING's order, so the ORM writes row by row there
    assert len(inserts) == (1 if services.db.dialect == "postgresql" else len(addresses)), counts.report()
    assert _recipients(services) == addresses


def test_a_failing_block_queues_none_of_its_messages(services):
    with services.db.transaction() as s:
        outbox = Outbox(s, services.clock, None)
        with pytest.raises(ValueError):
            with messages_together(s):
                outbox.send("lost@example.org", "Hei", "Tekst", plain=True)
                raise ValueError("the batch failed")
        outbox.send("kept@example.org", "Hei", "Tekst", plain=True)
    assert _recipients(services) == ["kept@example.org"]
