"""Date rules a JSON Schema cannot express: ``"x-not-before": "today"`` / ``"x-not-after": "today"``."""
from __future__ import annotations

from datetime import date
from typing import Mapping

from flask_babel import gettext as _


def date_rule_errors(schema: Mapping, data: Mapping, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, prop in schema.get("properties", {}).items():
        value = data.get(name)
        if not isinstance(value, str):
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            continue
        if prop.get("x-not-before") == "today" and day < today:
            errors[name] = _("Datoen kan ikke være tilbake i tid.")
        elif prop.get("x-not-after") == "today" and day > today:
            errors[name] = _("Datoen kan ikke være fram i tid.")
    return errors
