from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.operations import record
from webapp.settings.defaults import DEFINITIONS
from webapp.settings.models import Setting


def get_setting(session: Session, key: str) -> Any:
    definition = DEFINITIONS[key]
    row = session.get(Setting, key)
    return definition.default if row is None else row.value


def all_settings(session: Session) -> dict[str, Any]:
    stored = {row.key: row.value for row in session.scalars(select(Setting))}
    return {key: stored.get(key, d.default) for key, d in DEFINITIONS.items()}


def change_setting(session: Session, key: str, value: Any, *, at: datetime, actor_id: int | None) -> None:
    definition = DEFINITIONS[key]
    if not definition.allows(value):
        if definition.kind == "int":
            raise ValueError(f"expected a whole number from {definition.minimum} to {definition.maximum}")
        raise ValueError("expected true/false" if definition.kind == "bool" else "not one of the choices")
    row = session.get(Setting, key)
    old = definition.default if row is None else row.value
    if row is None:
        session.add(Setting(key=key, value=value, updated_by_id=actor_id, updated_at=at))
    else:
        row.value, row.updated_by_id, row.updated_at = value, actor_id, at
    record(session, "setting_changed", at=at, actor_id=actor_id, key=key, old=old, new=value)
