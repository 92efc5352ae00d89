"""Jinja filters and globals: Oslo time, Norwegian formats."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import g, request
from flask_babel import get_locale

OSLO = ZoneInfo("Europe/Oslo")


def local_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(OSLO).strftime("%d.%m.%Y kl. %H:%M")


def local_date(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(OSLO).date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def register(app) -> None:
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date

    @app.context_processor
    def globals_():
        return {"current_user": g.get("user"), "lang": str(get_locale() or "nb"),
                "current_path": request.full_path.rstrip("?")}
