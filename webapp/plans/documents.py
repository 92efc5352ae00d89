"""The individual plan (individuell plan) and the relay log (stafettlogg) as a standalone HTML
document and a PDF for the archive, with the look of the minutes (webapp/meetings/documents.py).

The document is a pure function of a version's snapshot (``operations.snapshot``) and the
version's own facts (number, source, reason, who, when, approved); nothing here touches the
database. Its sections follow the regulation on individual plans (forskrift om habilitering og
rehabilitering, individuell plan og koordinator § 19): the person's own words first, then
resources, needs, the goals with the measures under each, everyone's contributions, who takes
part and who coordinates, cooperation, the plan period and revision date, and the consent.
Empty sections say "Ingen".

The labels below are shared by the document, the diff (plans/diff.py) and the plan pages; they
use the ``_`` of meetings/documents.py, which translates in a request and gives the Norwegian
source text outside one (a service task archiving a version).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask import has_request_context
from flask_babel import get_locale

from webapp.clock import OSLO
from webapp.meetings.documents import _, html_to_pdf, render_document
from webapp.plans.models import SECTIONS

__all__ = ["VersionInfo", "plan_html", "plan_pdf", "as_version_info", "label_helpers", "fmt_iso",
           "kind_title", "plan_status_label", "source_label", "section_label", "goal_term_label",
           "goal_status_label", "measure_status_label", "note_status_label", "consent_how_label"]


@dataclass
class VersionInfo:
    number: int | None = None
    source: str | None = None
    reason: str | None = None
    made_by_name: str | None = None
    at: datetime | None = None
    approved_at: datetime | None = None


_VERSION_FIELDS = ("number", "source", "reason", "made_by_name", "at", "approved_at")


def as_version_info(value=None, **overrides) -> VersionInfo:
    """A ``VersionInfo`` from a ``PlanVersion`` row, a mapping or a ``VersionInfo``; ``overrides``
    replace single facts (e.g. ``approved_at`` when the version is being archived)."""
    if isinstance(value, VersionInfo):
        facts = {name: getattr(value, name) for name in _VERSION_FIELDS}
    elif isinstance(value, Mapping):
        facts = {name: value.get(name) for name in _VERSION_FIELDS}
    elif value is None:
        facts = {}
    else:
        facts = {name: getattr(value, name, None) for name in _VERSION_FIELDS}
    facts.update({k: v for k, v in overrides.items() if k in _VERSION_FIELDS})
    for name in ("at", "approved_at"):
        if isinstance(facts.get(name), str):
            facts[name] = _parse_datetime(facts[name])
    return VersionInfo(**facts)


# --- labels (translated at call time) ---------------------------------------------------------

def kind_title(kind: str | None) -> str:
    """The document's title: the BTI model's "Stafettlogg", otherwise "Individuell plan"."""
    return _("Stafettlogg") if kind == "relay_log" else _("Individuell plan")


def plan_status_label(status: str | None) -> str:
    labels = {"consent_pending": _("Venter på samtykke"), "drafting": _("Under utarbeiding"),
              "adopted": _("Vedtatt"), "refused": _("Samtykke ikke gitt"), "ended": _("Avsluttet")}
    return labels.get(status or "", status or "")


def source_label(source: str | None) -> str:
    labels = {"draft": _("utkast"), "adopted": _("vedtatt"), "meeting": _("oppdatert i møte"),
              "revision": _("revidert"), "handover": _("ny stafettholder"), "approved": _("godkjent"),
              "correction": _("rettet")}
    return labels.get(source or "", source or "")


def section_label(key: str) -> str:
    labels = {"whats_important": _("Hva er viktig for deg?"), "resources": _("Ressurser"),
              "needs": _("Behov"), "contribution_person": _("Personens eget bidrag"),
              "contribution_services": _("Tjenestenes bidrag"), "contribution_relatives": _("Pårørendes bidrag"),
              "cooperation": _("Samarbeid med andre tjenester")}
    return labels.get(key, key)


def goal_term_label(term: str | None) -> str:
    return {"long": _("Langsiktig mål"), "short": _("Kortsiktig mål")}.get(term or "", term or "")


def goal_status_label(status: str | None) -> str:
    labels = {"active": _("Aktivt"), "achieved": _("Nådd"), "dropped": _("Ikke lenger aktuelt")}
    return labels.get(status or "", status or "")


def measure_status_label(status: str | None) -> str:
    labels = {"open": _("Åpent"), "done": _("Gjennomført"), "not_done": _("Ikke gjennomført"),
              "escalated": _("Løftet til linjeleder")}
    return labels.get(status or "", status or "")


def note_status_label(status: str | None) -> str:
    labels = {"open": _("pågår"), "done": _("gjennomført"), "not_done": _("ikke gjennomført")}
    return labels.get(status or "", status or "")


def consent_how_label(how: str | None) -> str:
    labels = {"paper": _("skriftlig på papir"), "in_person": _("personlig til stede")}
    return labels.get(how or "", how or "")


def role_name(role: str | None) -> str:
    labels = {"koordinator": _("Koordinator"), "bruker": _("Personen selv"), "foresatt": _("Foresatt"),
              "parorende": _("Pårørende"), "medlem": _("Tjenesteyter"), "referent": _("Referent")}
    return labels.get(role or "", role or "")


# --- dates ------------------------------------------------------------------------------------

def _parse_datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def fmt_iso(value) -> str:
    """dd.mm.yyyy of a date, a datetime (shown in Oslo) or their ISO text (as in a snapshot);
    text that is not a date is returned as it is, nothing as ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = date.fromisoformat(text) if len(text) == 10 else _parse_datetime(text)
        except ValueError:
            value = None
        if value is None:
            return text
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        value = aware.astimezone(OSLO).date()
    return value.strftime("%d.%m.%Y")


def fmt_iso_time(value) -> str:
    """dd.mm.yyyy kl. HH:MM (Oslo) of a datetime or its ISO text."""
    if isinstance(value, str):
        value = _parse_datetime(value)
    if not isinstance(value, datetime):
        return fmt_iso(value)
    local = (value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)).astimezone(OSLO)
    return _("%(date)s kl. %(time)s", date=local.strftime("%d.%m.%Y"), time=local.strftime("%H:%M"))


def label_helpers() -> dict:
    """The labels and date helpers, for the plan pages' templates and the document's."""
    return {"kind_title": kind_title, "plan_status_label": plan_status_label, "source_label": source_label,
            "section_label": section_label, "goal_term_label": goal_term_label,
            "goal_status_label": goal_status_label, "measure_status_label": measure_status_label,
            "note_status_label": note_status_label, "consent_how_label": consent_how_label,
            "role_name": role_name, "fmt_iso": fmt_iso, "fmt_iso_time": fmt_iso_time}


# --- the document -----------------------------------------------------------------------------

def plan_view(snapshot: Mapping) -> dict:
    """The parts of a snapshot as the document and the plan page show them: the sections in the
    regulation's order, the goals by term, each with its measures (and measures whose goal is
    no longer in the plan, kept apart). Tolerates snapshots that lack a key (older versions)."""
    snapshot = snapshot or {}
    sections = snapshot.get("sections") or {}
    goals = [g for g in (snapshot.get("goals") or []) if isinstance(g, Mapping)]
    measures = [m for m in (snapshot.get("measures") or []) if isinstance(m, Mapping)]
    by_goal: dict = {}
    for measure in measures:
        by_goal.setdefault(measure.get("goal_id"), []).append(measure)
    goal_ids = {g.get("id") for g in goals}
    return {
        "sections": [(key, section_label(key), (sections.get(key) or "").strip()) for key in SECTIONS],
        "long_goals": [(g, by_goal.get(g.get("id"), [])) for g in goals if g.get("term") != "short"],
        "short_goals": [(g, by_goal.get(g.get("id"), [])) for g in goals if g.get("term") == "short"],
        "loose_measures": [m for m in measures if m.get("goal_id") not in goal_ids],
        "participants": [p for p in (snapshot.get("participants") or []) if isinstance(p, Mapping)],
        "consent": snapshot.get("consent") or {},
    }


def plan_html(snapshot: Mapping, version_info: VersionInfo | Mapping | object | None = None) -> str:
    """The plan as a complete standalone HTML document (print CSS inlined)."""
    info = as_version_info(version_info)
    snapshot = snapshot or {}
    lang = str(get_locale() or "nb") if has_request_context() else "nb"
    return render_document("plans/plan_document.html", plan=snapshot, view=plan_view(snapshot), version=info,
                           title=kind_title(snapshot.get("kind")), lang=lang, **label_helpers())


def plan_pdf(snapshot: Mapping, version_info: VersionInfo | Mapping | object | None = None) -> bytes:
    """The plan as PDF for the archive (rendered without fetching anything)."""
    return html_to_pdf(plan_html(snapshot, version_info))
