"""Database engine, sessions and the declarative base.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout. Writes that must be
serialised (engine steps, timer claims) use a session bound with ``sqlite_immediate`` so SQLite
takes the write lock at BEGIN instead of failing later with a stale snapshot. On PostgreSQL the
same code uses row locks (``FOR UPDATE`` / ``SKIP LOCKED``).
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
import json
from typing import Iterator

from sqlalchemy import Date, DateTime, MetaData, String, Table, create_engine, event, literal_column
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import BinaryExpression, BindParameter
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: How long a SQLite connection waits for a lock (ms) before it reports "database is locked".
BUSY_TIMEOUT_MS = 15000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class EncodedJSON(dict):
    """A JSON document whose text is already known: written as that text, not encoded again (the
    engine encodes a workflow state once, to measure it against its size cap)."""

    __slots__ = ("text",)

    def __init__(self, value: dict, text: str):
        super().__init__(value)
        self.text = text


def _json_serializer(value) -> str:
    return value.text if isinstance(value, EncodedJSON) else json.dumps(value)


class casefold(FunctionElement):
    """Text folded for case-insensitive matching that knows æ, ø and å: PostgreSQL's ``lower``
    (Unicode-aware under a UTF-8 locale), on SQLite Python's ``str.casefold`` (SQLite's own
    ``lower`` folds ASCII only). Fold the needle with ``str.casefold`` too."""

    type = String()
    name = "casefold"
    inherit_cache = True


@compiles(casefold)
def _casefold_default(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(casefold, "sqlite")
def _casefold_sqlite(element, compiler, **kw):
    return f"py_casefold({compiler.process(element.clauses, **kw)})"


class day_after_months(FunctionElement):
    """The Oslo calendar day ``months`` (may be negative or 0) after a date or timestamp, as a
    DATE: PostgreSQL date arithmetic in Europe/Oslo; on SQLite the same with ``date()``: a stored
    UTC time moved to Oslo's time first, and months clamped to the month's last day as
    PostgreSQL does (31 March - 1 month = 28 February)."""

    type = Date()
    name = "day_after_months"
    inherit_cache = True

    def __init__(self, expression, months: int):
        # the number is part of the statement (and of its cache key), never a parameter
        super().__init__(expression, literal_column(str(int(months))))


@compiles(day_after_months)
def _day_after_months_default(element, compiler, **kw):
    expression, months = element.clauses.clauses
    value = compiler.process(expression, **kw)
    if not isinstance(expression.type, Date) or isinstance(expression.type, DateTime):
        value = f"({value} AT TIME ZONE 'Europe/Oslo')"
    return f"CAST({value} + make_interval(months => {months.name}) AS DATE)"


@compiles(day_after_months, "sqlite")
def _day_after_months_sqlite(element, compiler, **kw):
    expression, months = element.clauses.clauses
    months = int(months.name)
    timestamp = not isinstance(expression.type, Date) or isinstance(expression.type, DateTime)

    def value() -> str:
        """The Oslo day or time; compiled anew at each use, so bound parameters are rendered each
        time. SQLite has no time zones: a stored UTC time is moved by Europe/Oslo's offset, +2
        hours from 01:00 UTC on the last Sunday of March (the Sunday on or after 25 March) to
        01:00 UTC on the last Sunday of October, else +1 (the EU rule Norway follows)."""
        def utc() -> str:
            return compiler.process(expression, **kw)

        if not timestamp:
            return utc()
        summer_from = f"date(strftime('%Y', {utc()}) || '-03-25', 'weekday 0') || ' 01:00:00'"
        summer_to = f"date(strftime('%Y', {utc()}) || '-10-25', 'weekday 0') || ' 01:00:00'"
        return (f"datetime({utc()}, CASE WHEN {utc()} >= {summer_from} AND {utc()} < {summer_to} "
                "THEN '+2 hours' ELSE '+1 hours' END)")

    if months == 0:
        return f"date({value()})"
    # SQLite's month arithmetic overflows (31 March - 1 month = 3 March); PostgreSQL and
    # relativedelta clamp to the month's last day (28 February): a changed day of the month means
    # an overflow, and the day before the first of the month it landed in is the clamped day
    return (f"CASE WHEN strftime('%d', date({value()}, '{months:+d} months')) = strftime('%d', {value()}) "
            f"THEN date({value()}, '{months:+d} months') "
            f"ELSE date({value()}, '{months:+d} months', 'start of month', '-1 day') END")


#: (table, column) named in the WHERE of a partial index (declared in the models or in migrations
#: 0011-0014). On SQLite a constant compared with one of them is written into the statement
#: (``_constant_in_partial_index_term``). tests/webapp/test_database.py checks this list against
#: the migrated schema, so a new partial index cannot be left out.
PARTIAL_INDEX_COLUMNS = frozenset({
    ("cases", "status"), ("cases", "has_coordinator"), ("case_members", "role"), ("case_members", "active"),
    ("consents", "given"), ("consents", "superseded"), ("consents", "withdrawn_at"), ("consents", "ended_at"),
    ("consents", "valid_until"), ("measures", "status"), ("evaluations", "status"), ("plans", "status"),
    ("incidents", "status"),
})


def _in_partial_index(element) -> bool:
    """Whether ``element`` is a column (of its table or an alias of it) of ``PARTIAL_INDEX_COLUMNS``."""
    for column in getattr(element, "proxy_set", ()):
        table = getattr(column, "table", None)
        if isinstance(table, Table) and (table.name, column.name) in PARTIAL_INDEX_COLUMNS:
            return True
    return False


@compiles(BinaryExpression, "sqlite")
def _constant_in_partial_index_term(binary, compiler, **kw):
    """SQLite prepares a statement anew on *every* execution when a bound parameter equals the
    constant of a partial index's WHERE (it might make the index usable: ``role = ?`` bound to
    'koordinator'). For a query as the access rule that cost about 200 µs each time, ten times
    the query. So such a value is written into the SQL text at execution (``literal_execute``:
    the compiled statement stays cached, and SQLite's statement cache keeps one text per value)."""
    sides = (binary.left, binary.right)
    if any(isinstance(side, BindParameter) and not side.literal_execute for side in sides) and any(
            _in_partial_index(side) for side in sides):
        kw["literal_execute"] = True
    return compiler.visit_binary(binary, **kw)


@contextmanager
def kept_for_block(session: Session, key: str) -> Iterator[list]:
    """A list under ``session.info[key]`` for the block: writes that nothing inside reads are
    kept there and written together by the caller after the block, and dropped if it fails
    (``audit.operations.events_together``, ``outbox.operations.messages_together``)."""
    kept = session.info[key] = []
    try:
        yield kept
    finally:
        session.info.pop(key, None)


def code_constant(value: str):
    """A text constant of our code (a role, a status) written into the statement itself, as a
    literal and part of the statement's cache key. Compared with a column of a partial index it
    spares the re-rendering of the whole statement at each execution that a parameter costs
    there (``_constant_in_partial_index_term``); for the hot statements built once (the access
    rule). Only for constants: never for what a user or a diagram supplies."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"not a plain constant: {value!r}")
    return literal_column(f"'{value}'", String())


def _py_casefold(value):
    return value.casefold() if isinstance(value, str) else value


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        dbapi_conn.create_function("py_casefold", 1, _py_casefold, deterministic=True)

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        # on the driver's connection: transaction control, not a statement worth SQLAlchemy's
        # execution machinery (a third of a short read's cost)
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engine plus two session factories: ``session`` for reads/ordinary writes and
    ``writer`` for serialised engine work."""

    def __init__(self, url: str, echo: bool = False):
        url = normalise_url(url)
        self.url = url
        # LIFO: a request takes back the connection the previous one used. On SQLite each
        # connection keeps its own page cache, which a write by another connection empties; in
        # turn (FIFO) every request met a cold cache (about 5 % of a completion). On PostgreSQL
        # the unused rest of the pool stays idle and can be recycled.
        kwargs: dict = {"echo": echo, "future": True, "json_serializer": _json_serializer,
                        "pool_use_lifo": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        else:
            kwargs["pool_pre_ping"] = True
            # JIT compiling pays off for long analytic queries; for a page's short ones its
            # compile time (10-20 ms) was the larger part of the query
            options = make_url(url).query.get("options") or ""  # e.g. a search_path given in the URL
            kwargs["connect_args"] = {"options": f"{options} -c jit=off".strip()}
        self.engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            _sqlite_setup(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        # Engine steps flush once, at commit: autoflush before each query only costs time there.
        self.writer = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False,
            autoflush=False,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, serialised: bool = False) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any exception."""
        factory = self.writer if serialised else self.session
        with factory() as session:
            with session.begin():
                yield session

    def checkpoint(self, wait_ms: int = 200) -> bool:
        """SQLite: copy the WAL back into the database and truncate it (``wal_checkpoint(TRUNCATE)``;
        the worker calls it when idle). It waits at most ``wait_ms`` for writers and for readers of
        an older snapshot, then gives up until next time. True when the WAL was emptied; always
        True on PostgreSQL (nothing to do)."""
        if self.dialect != "sqlite":
            return True
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection  # outside any transaction: PRAGMA needs that
            try:
                raw.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
                busy, _log, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return busy == 0

    def dispose(self) -> None:
        self.engine.dispose()


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver we ship)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
