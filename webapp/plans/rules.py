"""Rules on the plan's forms that need the plan's data (the ``formCheck`` property of its steps):
reported next to the fields with the user's input kept, before anything is recorded. The
operations check the same rules again as guards."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from webapp.clock import OSLO
from webapp.plans.models import Plan
from webapp.plans.operations import goals_of, measures_of


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def goals_errors(session: Session, plan: Plan | None, submitted: dict) -> dict[str, str]:
    """At least one goal that applies once the changes are made."""
    if plan is None:
        return {}
    changed = {str(r.get("goal_id")): r.get("status") for r in submitted.get("goal_changes") or []
               if isinstance(r, dict)}
    remaining = [g for g in goals_of(session, plan) if changed.get(str(g.id), g.status) == "active"]
    added = [r for r in submitted.get("new_goals") or [] if isinstance(r, dict) and (r.get("text") or "").strip()]
    if not remaining and not added:
        return {"new_goals": _("Planen må ha minst ett mål som gjelder. Skriv et mål.")}
    return {}


def measures_errors(session: Session, plan: Plan | None, submitted: dict) -> dict[str, str]:
    """At least one measure in the plan (the ones it has, or a new one)."""
    if plan is None:
        return {}
    if not measures_of(session, plan) and not submitted.get("new_measures"):
        return {"new_measures": _("Planen må ha minst ett tiltak. Skriv et tiltak knyttet til et mål.")}
    return {}


def adoption_errors(submitted: dict, now: datetime) -> dict[str, str]:
    """The period in order, and a revision date ahead (the revision starts on that day)."""
    if submitted.get("decision") != "adopt":
        return {}
    errors: dict[str, str] = {}
    today = now.astimezone(OSLO).date()
    start, end, revision = (_day(submitted.get(k)) for k in ("period_from", "period_to", "revision_due_on"))
    if start is not None and end is not None and end < start:
        errors["period_to"] = _("Planperioden kan ikke slutte før den begynner.")
    if revision is not None and revision <= today:
        errors["revision_due_on"] = _("Revisjonsdatoen må være fram i tid.")
    elif revision is not None and end is not None and revision > end:
        errors["revision_due_on"] = _("Planen må revideres innen planperioden er slutt.")
    return errors
