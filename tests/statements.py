"""Counting what a request sends to the database (SQL statements and commits), for tests that
bound the work of a page or a step by counts, never by time."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Counts:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def __len__(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        return "\n".join(f"{n + 1:3}. {sql[:2000]}" for n, sql in enumerate(self.statements))


@contextmanager
def counting(engine):
    """Count the statements (not transaction control: BEGIN, COMMIT, ROLLBACK) and the commits
    that ``engine`` runs inside the block."""
    counts = Counts()

    def on_execute(_conn, _cursor, statement, _parameters, _context, _many):
        text = " ".join(statement.split())
        if not text.upper().startswith(_CONTROL):
            counts.statements.append(text)

    def on_commit(_conn):
        counts.commits += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
