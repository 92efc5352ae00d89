"""Jinja filters and globals: Oslo time, Norwegian formats."""
from __future__ import annotations

from datetime import date, datetime

from webapp.clock import OSLO

from flask import g, request
from flask_babel import get_locale, gettext as _, lazy_gettext as _l



def local_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(OSLO)
    return _("%(date)s kl. %(time)s", date=local.strftime("%d.%m.%Y"), time=local.strftime("%H:%M"))


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
        "declined": _l("Ønsket er avslått"), "duplicate": _l("Duplikat"),
    }
    return str(labels.get(status or "", status or ""))


def role_label(role: str | None) -> str:
    labels = {
        "koordinator": _l("Koordinator"), "bruker": _l("Personen selv"), "foresatt": _l("Foresatt"),
        "parorende": _l("Pårørende"), "medlem": _l("Tjenesteyter"), "referent": _l("Referent"),
        "koordinerende_enhet": _l("Koordinerende enhet"), "systemansvarlig": _l("Systemansvarlig"),
        "linjeleder": _l("Linjeleder"),
    }
    return str(labels.get(role or "", role or ""))


def transition_label(kind: str | None) -> str:
    """The reader's-language name of a transition kind (``TRANSITION_KINDS`` holds the Norwegian
    text that goes into stored data such as agenda matters)."""
    labels = {
        "school_start": _l("Skolestart"), "lower_secondary": _l("Overgang til ungdomsskolen"),
        "upper_secondary": _l("Overgang til videregående skole"), "adulthood": _l("Myndig (18 år)"),
        "own_home": _l("Flytting til egen bolig"), "work": _l("Overgang til arbeid"),
        "school_change": _l("Skolebytte"), "moving": _l("Flytting"),
        "composition_change": _l("Endret sammensetning etter evaluering"), "other": _l("Annen overgang"),
    }
    return str(labels.get(kind or "", kind or ""))


def event_title(event) -> str:
    """A timeline line for an audit event, built in the reader's language from the event's kind
    and details (the stored ``title`` is only a fallback for kinds not listed here)."""
    d = event.detail or {}
    kind = event.kind
    if kind == "case_status_changed":
        return _("Status: %(status)s", status=status_label(d.get("to_status")))
    named = {
        "task_completed": _l("Utført: %(name)s"), "member_added": _l("Medlem lagt til: %(name)s"),
        "member_removed": _l("Medlem ute av gruppen: %(name)s"),
        "coordinator_appointed": _l("Koordinator oppnevnt: %(name)s"),
        "mandate_clarified": _l("Mandat avklart: %(name)s"), "instance_started": _l("Startet: %(name)s"),
        "instance_cancelled": _l("Prosess avbrutt: %(name)s"),
    }
    if kind in named:
        name = d.get("name") or d.get("title", "").split(": ", 1)[-1] or d.get("reason", "")
        return str(named[kind]) % {"name": name}
    plain = {
        "instance_completed": _l("Prosessen er fullført"), "case_opened": _l("Sak opprettet"),
        "wish_registered": _l("Ønske om ansvarsgruppe registrert"),
        "consent_given": _l("Skriftlig samtykke registrert"), "consent_refused": _l("Samtykke ikke gitt"),
        "consent_withdrawn": _l("Samtykke trukket tilbake"),
        "plan_need_assessed": _l("Behov for individuell plan vurdert"),
        "incident_opened": _l("Feil i prosessen registrert"), "incident_resolved": _l("Feil i prosessen løst"),
        "timers_checked": _l("Frist eller tidspunkt nådd"),
        "consent_renewed": _l("Samtykket er fornyet for den nye sammensetningen"),
        "transition_consent_not_renewed": _l("Samtykket ble ikke fornyet; sammensetningen er ikke endret"),
        "coordinator_overlap_ended": _l("Overlappen mellom forrige og ny koordinator er avsluttet"),
        "coordinator_tasks_reassigned": _l("Koordinators åpne oppgaver er overført til ny koordinator"),
        "instance_migrated": _l("Prosessen er flyttet til en ny versjon"),
        "supervision_retry": _l("Tilsynet prøvde et steg igjen"),
        "supervision_reassign": _l("Tilsynet ga et steg til en annen"),
        "supervision_handover": _l("Tilsynet overleverte steg fra en som slutter"),
        "supervision_cancel": _l("Tilsynet avbrøt en prosess"),
        "supervision_reminder": _l("Tilsynet minnet koordinatoren på saken"),
    }
    if kind in plain:
        return str(plain[kind])
    return d.get("title") or kind


def register(app) -> None:
    app.jinja_env.filters["event_title"] = event_title
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["transition_label"] = transition_label
    from webapp.cases import register_data  # the privacy boundary's helpers (task_title, ...)
    register_data.register(app)

    @app.context_processor
    def globals_():
        return {"current_user": g.get("user"), "lang": str(get_locale() or "nb"),
                "current_path": request.full_path.rstrip("?")}
