"""Keyset pagination for list pages: a page is the rows after a cursor in a fixed order, never an
OFFSET (whose cost grows with the page number). The cursor is the sort key of the page's last
row, sent as one opaque URL parameter; a cursor that does not parse is the first page."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Sequence

from sqlalchemy import literal, tuple_
from sqlalchemy.sql import Select

#: rows on one page of a list
PAGE_SIZE = 50
MAX_CURSOR = 500


@dataclass
class Page:
    rows: list
    #: the cursor of the next page, or None on the last
    next_cursor: str | None
    #: whether this page was reached through a cursor (so there is a first page to go back to)
    paged: bool
    #: how many rows the whole list has, where a page counts them
    total: int | None = None


def encode(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]  # datetimes are dates too
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(raw: str | None, kinds: Sequence[type]) -> tuple | None:
    """The values of a cursor, checked against ``kinds`` (str, int, bool, date, datetime); None if
    missing or malformed."""
    if not raw or len(raw) > MAX_CURSOR:
        return None
    try:
        plain = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(plain, list) or len(plain) != len(kinds):
        return None
    values = []
    for value, kind in zip(plain, kinds):
        if kind is datetime:
            try:
                value = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            if value is None or value.tzinfo is None:
                return None
        elif kind is date:
            try:
                value = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
            except ValueError:
                value = None
            if value is None:
                return None
        elif kind is int and (not isinstance(value, int) or isinstance(value, bool) or abs(value) >= 2**31):
            return None
        elif kind is not int and not isinstance(value, kind):
            return None
        elif isinstance(value, str) and "\x00" in value:
            return None
        values.append(value)
    return tuple(values)


def paginate(session, query: Select, keys: Sequence, cursor: str | None, *, descending: bool = False,
             size: int | None = None, key_of=None) -> Page:
    """One page of ``query`` ordered by ``keys`` (SQL expressions; the last must be unique, e.g.
    an id), after ``cursor``. ``key_of(row)`` gives a row's key values (default: the row's
    trailing columns, one per key: select the keys last)."""
    size = size or PAGE_SIZE
    kinds = [_kind(key) for key in keys]
    after = decode(cursor, kinds)
    if after is not None:
        query = rows_after(query, keys, after, descending=descending)
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = session.execute(query.order_by(*order).limit(size + 1)).all()
    following = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        following = encode(key_of(last) if key_of else tuple(last[-len(keys):]))
    return Page(rows, following, after is not None)


def rows_after(query: Select, keys: Sequence, values: Sequence, *, descending: bool = False) -> Select:
    """``query`` limited to the rows after ``values`` (a decoded cursor) in the order of ``keys``."""
    bound = tuple_(*[literal(value, key.type) for value, key in zip(values, keys)])
    return query.where(tuple_(*keys) < bound if descending else tuple_(*keys) > bound)


def _kind(key) -> type:
    kind = getattr(key.type, "impl_instance", key.type).python_type  # a TypeDecorator: its impl's
    if kind not in (str, int, bool, date, datetime):
        raise TypeError(f"a keyset key must be text, a number, true/false, a date or a datetime, not {kind}")
    return kind
