"""Date rules of the meeting cycle: every date in a sensible order relative to the others.

The same functions serve the task forms (``formCheck`` providers in webapp/taskforms/providers.py,
errors per field with the user's input kept) and the operations (a guard: a DomainError, so that
nothing out of order is ever saved, whichever way a step is completed).

- minutes are written only once the meeting has started;
- the next meeting is after this one;
- a measure's deadline is not in the past, nor before the meeting that agreed it;
- a moved meeting leaves the notice period (``notice_days``) before it, else the earliest
  allowed date is named.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from webapp.clock import OSLO
from webapp.meetings.models import Meeting
from webapp.settings.operations import get_setting


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _fmt(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def earliest_notice_start(session: Session, now: datetime, at: time) -> date:
    """The first day a meeting at ``at`` (Oslo time) can be held with the full notice period."""
    limit = now + timedelta(days=int(get_setting(session, "notice_days")))
    day = limit.astimezone(OSLO).date()
    if datetime.combine(day, at, OSLO) < limit:
        day += timedelta(days=1)
    return day


def moved_meeting_errors(session: Session, data: dict, now: datetime) -> dict[str, str]:
    """The late-notice step's new date: far enough ahead for the notice period."""
    if data.get("notice_decision") != "new_date":
        return {}
    day, raw_time = _day(data.get("new_date")), data.get("new_time") or ""
    try:
        at = time(*(int(x) for x in raw_time.split(":")))
    except (TypeError, ValueError):
        return {}
    if day is None:
        return {}
    earliest = earliest_notice_start(session, now, at)
    if day < earliest:
        return {"new_date": _("Datoen er fortsatt for tidlig til at innkallingen kan sendes %(days)s dager før "
                              "møtet. Tidligste mulige dato er %(day)s.",
                              days=int(get_setting(session, "notice_days")), day=_fmt(earliest))}
    return {}


def move_errors(session: Session, meeting: Meeting, data: dict, now: datetime) -> dict[str, str]:
    """Moving an invited meeting (``operations.move_invited``): the notice rule, as the
    late-notice step's, and a time other than the one it has."""
    from webapp.meetings.operations import chosen_start
    errors = moved_meeting_errors(session, {**data, "notice_decision": "new_date"}, now)
    if not errors and chosen_start(data) == meeting.starts_at:
        errors = {"new_date": _("Møtet er allerede på dette tidspunktet.")}
    return errors


def minutes_errors(meeting: Meeting | None, data: dict, now: datetime) -> dict[str, str]:
    """The minutes of ``meeting`` (the hold steps): dates in order."""
    errors: dict[str, str] = {}
    if meeting is None or meeting.starts_at is None:
        return errors
    starts = meeting.starts_at.astimezone(OSLO)
    if now < meeting.starts_at:
        errors[""] = _("Møtet starter %(day)s kl. %(time)s. Referatet kan skrives når møtet har startet.",
                       day=_fmt(starts.date()), time=starts.strftime("%H:%M"))
    next_day = _day(data.get("next_meeting_date"))
    if next_day is not None and next_day <= starts.date():
        errors["next_meeting_date"] = _("Neste møte må være etter dette møtet (%(day)s).", day=_fmt(starts.date()))
    today = now.astimezone(OSLO).date()
    for i, row in enumerate(data.get("new_measures") or []):
        deadline = _day(row.get("deadline")) if isinstance(row, dict) else None
        if deadline is not None and deadline < max(today, starts.date()):
            errors[f"new_measures.{i}.deadline"] = _("Fristen kan ikke være tilbake i tid.")
    for i, row in enumerate(data.get("attendance") or []):
        if isinstance(row, dict) and row.get("present") and (row.get("absence_reason") or "").strip():
            errors[f"attendance.{i}.present"] = _("Et medlem med forfall kan ikke også være til stede. "
                                                  "Fjern krysset eller forfallet.")
    return errors


def cooperation_errors(meeting: Meeting | None, data: dict) -> dict[str, str]:
    """The cooperation meeting follows the meeting it was agreed in."""
    day = _day(data.get("held_on"))
    if meeting is None or meeting.starts_at is None or day is None:
        return {}
    start = meeting.starts_at.astimezone(OSLO).date()
    if day < start:
        return {"held_on": _("Samarbeidsmøtet kan ikke være før møtet det ble avtalt i (%(day)s).", day=_fmt(start))}
    return {}


def first_error(errors: dict[str, str]) -> str | None:
    return next(iter(errors.values()), None)
