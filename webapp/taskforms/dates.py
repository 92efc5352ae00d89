"""Date rules a JSON Schema cannot express: ``"x-not-before": "today"``, ``"x-not-after": "today"``,
and ``"x-warn-unusual": "<checkbox field>"`` (a public holiday or weekend needs that box ticked)."""
from __future__ import annotations

from datetime import date
from typing import Mapping

from flask_babel import gettext as _

from webapp.meetings.documents import unusual_meeting_day


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
        elif prop.get("x-warn-unusual") and not data.get(prop["x-warn-unusual"]):
            unusual = unusual_meeting_day(day)
            if unusual:  # a warning the user can accept by ticking the named checkbox
                errors[name] = _("%(day)s er %(what)s. Velg en annen dato, eller kryss av for at du vil bruke den.",
                                 day=day.strftime("%d.%m.%Y"), what=unusual)
    return errors
