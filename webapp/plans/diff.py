"""What changed between two versions of a plan: pure functions of two snapshots
(``operations.snapshot``), no database.

Goals and measures are matched by id; sections by key. Values are compared as the plan shows
them (text trimmed, nothing and "" alike) and reported as display text: dates as dd.mm.yyyy,
statuses and terms by their Norwegian labels. Snapshots of older versions may lack a key; a
missing key counts as empty.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from webapp.meetings.documents import _
from webapp.plans.documents import (
    consent_how_label, fmt_iso, goal_status_label, goal_term_label, measure_status_label, plan_status_label,
    section_label,
)
from webapp.plans.models import SECTIONS

__all__ = ["FieldChange", "GoalChange", "MeasureChange", "PlanDiff", "diff_snapshots", "period_text"]


@dataclass
class FieldChange:
    """One changed field: its key, its Norwegian label, and the old and new value as shown."""
    key: str
    label: str
    old: str
    new: str


@dataclass
class GoalChange:
    goal_id: int | None
    text: str                       # the goal's text in the newer version
    changes: list[FieldChange]


@dataclass
class MeasureChange:
    measure_id: int | None
    description: str                # the measure's description in the newer version
    goal: str                       # the text of the goal it serves in the newer version
    changes: list[FieldChange]
    new_notes: list[dict] = field(default_factory=list)   # progress recorded since the older version


@dataclass
class PlanDiff:
    sections: list[FieldChange] = field(default_factory=list)
    goals_added: list[dict] = field(default_factory=list)
    goals_removed: list[dict] = field(default_factory=list)
    goals_changed: list[GoalChange] = field(default_factory=list)
    #: added and removed measures carry ``goal_text``: the text of the goal they serve
    measures_added: list[dict] = field(default_factory=list)
    measures_removed: list[dict] = field(default_factory=list)
    measures_changed: list[MeasureChange] = field(default_factory=list)
    #: status, period, revision date, coordinator, stafettholder, secretary, consent
    facts: list[FieldChange] = field(default_factory=list)
    participants_added: list[str] = field(default_factory=list)
    participants_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sections or self.goals_added or self.goals_removed or self.goals_changed
                    or self.measures_added or self.measures_removed or self.measures_changed or self.facts
                    or self.participants_added or self.participants_removed)


# --- helpers ----------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _rows(snapshot: Mapping, key: str) -> list[Mapping]:
    return [row for row in (snapshot.get(key) or []) if isinstance(row, Mapping)]


def _by_id(rows: list[Mapping]) -> dict:
    found: dict = {}
    for position, row in enumerate(rows):
        found[row.get("id", f"#{position}")] = row
    return found


def period_text(snapshot: Mapping) -> str:
    """The plan period as shown: "01.01.2026–31.12.2026", "fra 01.01.2026" or ""."""
    start, end = fmt_iso(snapshot.get("period_from")), fmt_iso(snapshot.get("period_to"))
    if start and end:
        return f"{start}–{end}"
    if start:
        return _("fra %(date)s", date=start)
    if end:
        return _("til %(date)s", date=end)
    return ""


def _consent_text(snapshot: Mapping) -> str:
    consent = snapshot.get("consent") or {}
    if not isinstance(consent, Mapping) or not _text(consent.get("signed_by")):
        return ""
    parts = [_text(consent.get("signed_by")), consent_how_label(consent.get("how")), fmt_iso(consent.get("signed_on"))]
    return ", ".join(p for p in parts if p)


def _change(changes: list, key: str, label: str, old: str, new: str) -> None:
    if old != new:
        changes.append(FieldChange(key=key, label=label, old=old, new=new))


def _note_key(note: Mapping) -> tuple:
    return _text(note.get("at")), _text(note.get("status")), _text(note.get("note")), _text(note.get("by"))


# --- the diff ---------------------------------------------------------------------------------

def diff_snapshots(old: Mapping, new: Mapping) -> PlanDiff:
    """What changed from the snapshot ``old`` to the snapshot ``new``."""
    old, new = old or {}, new or {}
    diff = PlanDiff()

    old_sections, new_sections = old.get("sections") or {}, new.get("sections") or {}
    for key in SECTIONS:
        _change(diff.sections, key, section_label(key), _text(old_sections.get(key)), _text(new_sections.get(key)))

    # goals
    old_goals, new_goals = _by_id(_rows(old, "goals")), _by_id(_rows(new, "goals"))
    for goal_id, goal in new_goals.items():
        before = old_goals.get(goal_id)
        if before is None:
            diff.goals_added.append(dict(goal))
            continue
        changes: list[FieldChange] = []
        _change(changes, "text", _("Mål"), _text(before.get("text")), _text(goal.get("text")))
        _change(changes, "term", _("Tidsperspektiv"), goal_term_label(before.get("term")),
                goal_term_label(goal.get("term")))
        _change(changes, "status", _("Status"), goal_status_label(before.get("status")),
                goal_status_label(goal.get("status")))
        if changes:
            diff.goals_changed.append(GoalChange(goal_id=goal.get("id"), text=_text(goal.get("text")), changes=changes))
    diff.goals_removed = [dict(goal) for goal_id, goal in old_goals.items() if goal_id not in new_goals]

    # measures
    def goal_text(goals: dict, goal_id) -> str:
        goal = goals.get(goal_id)
        return _text(goal.get("text")) if goal is not None else ""

    old_measures, new_measures = _by_id(_rows(old, "measures")), _by_id(_rows(new, "measures"))
    for measure_id, measure in new_measures.items():
        before = old_measures.get(measure_id)
        if before is None:
            diff.measures_added.append({**measure, "goal_text": goal_text(new_goals, measure.get("goal_id"))})
            continue
        changes = []
        _change(changes, "description", _("Tiltak"), _text(before.get("description")),
                _text(measure.get("description")))
        if before.get("goal_id") != measure.get("goal_id"):
            changes.append(FieldChange(key="goal", label=_("Mål"), old=goal_text(old_goals, before.get("goal_id")),
                                       new=goal_text(new_goals, measure.get("goal_id"))))
        _change(changes, "scope", _("Omfang"), _text(before.get("scope")), _text(measure.get("scope")))
        if (before.get("responsible_member_id"), _text(before.get("responsible"))) != \
                (measure.get("responsible_member_id"), _text(measure.get("responsible"))):
            changes.append(FieldChange(key="responsible", label=_("Ansvarlig"), old=_text(before.get("responsible")),
                                       new=_text(measure.get("responsible"))))
        _change(changes, "how", _("Gjennomføring"), _text(before.get("how")), _text(measure.get("how")))
        _change(changes, "deadline", _("Frist"), fmt_iso(before.get("deadline")), fmt_iso(measure.get("deadline")))
        _change(changes, "status", _("Status"), measure_status_label(before.get("status")),
                measure_status_label(measure.get("status")))
        seen = {_note_key(n) for n in _rows(before, "notes")}
        new_notes = [dict(n) for n in _rows(measure, "notes") if _note_key(n) not in seen]
        if changes or new_notes:
            diff.measures_changed.append(MeasureChange(
                measure_id=measure.get("id"), description=_text(measure.get("description")),
                goal=goal_text(new_goals, measure.get("goal_id")), changes=changes, new_notes=new_notes))
    diff.measures_removed = [{**m, "goal_text": goal_text(old_goals, m.get("goal_id"))}
                             for measure_id, m in old_measures.items() if measure_id not in new_measures]

    # the plan's facts
    _change(diff.facts, "status", _("Status"), plan_status_label(old.get("status")),
            plan_status_label(new.get("status")))
    _change(diff.facts, "period", _("Planperiode"), period_text(old), period_text(new))
    _change(diff.facts, "revision_due_on", _("Neste revisjon"), fmt_iso(old.get("revision_due_on")),
            fmt_iso(new.get("revision_due_on")))
    _change(diff.facts, "coordinator", _("Koordinator"), _text(old.get("coordinator")), _text(new.get("coordinator")))
    _change(diff.facts, "holder", _("Stafettholder"), _text(old.get("holder")), _text(new.get("holder")))
    _change(diff.facts, "secretary", _("Sekretær"), _text(old.get("secretary")), _text(new.get("secretary")))
    _change(diff.facts, "consent", _("Samtykke"), _consent_text(old), _consent_text(new))

    def participants(snapshot: Mapping) -> dict:
        return {p.get("member_id", _text(p.get("name"))): _text(p.get("name")) for p in _rows(snapshot, "participants")}

    before, after = participants(old), participants(new)
    diff.participants_added = [name for key, name in after.items() if key not in before]
    diff.participants_removed = [name for key, name in before.items() if key not in after]
    return diff
