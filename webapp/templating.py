"""Jinja filters and globals: Oslo time, Norwegian formats."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import g, request
from flask_babel import get_locale, lazy_gettext as _l

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


def status_label(status: str | None) -> str:
    labels = {
        "requested": _l("Ønske registrert"), "awaiting_consent": _l("Venter på samtykke"),
        "establishing": _l("Under etablering"), "active": _l("Aktiv"),
        "not_established": _l("Ikke opprettet"), "consent_withdrawn": _l("Samtykke trukket tilbake"),
        "closed": _l("Avsluttet"), "running": _l("Pågår"), "completed": _l("Fullført"),
        "cancelled": _l("Avbrutt"), "incident": _l("Feil – venter på ny kjøring"),
    }
    return str(labels.get(status or "", status or ""))


def role_label(role: str | None) -> str:
    labels = {
        "koordinator": _l("Koordinator"), "bruker": _l("Personen selv"), "foresatt": _l("Foresatt"),
        "parorende": _l("Pårørende"), "medlem": _l("Tjenesteyter"), "referent": _l("Referent"),
        "koordinerende_enhet": _l("Koordinerende enhet"), "systemansvarlig": _l("Systemansvarlig"),
    }
    return str(labels.get(role or "", role or ""))


def event_title(event) -> str:
    """A timeline line for an audit event, in the user's language."""
    detail = event.detail or {}
    if event.kind == "case_status_changed":
        return f"{_l('Status')}: {status_label(detail.get('to_status'))}"
    if event.kind == "task_completed":
        return f"{_l('Utført')}: {detail.get('title', '')}"
    labels = {
        "instance_completed": _l("Prosessen er fullført"), "case_opened": _l("Sak opprettet"),
        "incident_opened": _l("Feil i prosessen registrert"), "incident_resolved": _l("Feil i prosessen løst"),
        "timers_checked": _l("Frist eller tidspunkt nådd"),
    }
    if event.kind in labels:
        return str(labels[event.kind])
    return detail.get("title") or event.kind


def register(app) -> None:
    app.jinja_env.filters["event_title"] = event_title
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["role_label"] = role_label

    @app.context_processor
    def globals_():
        return {"current_user": g.get("user"), "lang": str(get_locale() or "nb"),
                "current_path": request.full_path.rstrip("?")}
