from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from webapp.audit.operations import record
from webapp.settings.defaults import DEFINITIONS
from webapp.settings.models import Setting


#: ``session.info`` key: the settings this transaction found unset (so at their default)
_UNSET = "settings_unset"


def get_setting(session: Session, key: str) -> Any:
    """A setting's value, or its default when the municipality has not set it. A stored row stays
    in the session once read; that one is missing is kept for the transaction too, so a step that
    queues ten e-mails asks for the mail domains once, not ten times."""
    definition = DEFINITIONS[key]
    unset = session.info.setdefault(_UNSET, set())
    if key in unset:
        return definition.default
    row = session.get(Setting, key)
    if row is None:
        unset.add(key)
        return definition.default
    return row.value


@event.listens_for(Session, "after_transaction_end")
def _forget_unset(session: Session, transaction) -> None:
    if transaction.parent is None:  # the next transaction may see another's change
        session.info.pop(_UNSET, None)


def all_settings(session: Session) -> dict[str, Any]:
    stored = {row.key: row.value for row in session.scalars(select(Setting))}
    return {key: stored.get(key, d.default) for key, d in DEFINITIONS.items()}


def change_setting(session: Session, key: str, value: Any, *, at: datetime, actor_id: int | None) -> None:
    definition = DEFINITIONS[key]
    if not definition.allows(value):
        if definition.kind == "int":
            raise ValueError(f"expected a whole number from {definition.minimum} to {definition.maximum}")
        raise ValueError("expected true/false" if definition.kind == "bool" else "not one of the choices")
    session.info.get(_UNSET, set()).discard(key)
    row = session.get(Setting, key)
    old = definition.default if row is None else row.value
    if row is None:
        session.add(Setting(key=key, value=value, updated_by_id=actor_id, updated_at=at))
    else:
        row.value, row.updated_by_id, row.updated_at = value, actor_id, at
    record(session, "setting_changed", at=at, actor_id=actor_id, key=key, old=old, new=value)
