"""Scheduling and recording evaluations. Each episode of processes/evaluation.bpmn holds one
Evaluation row. The domain computes the due day (``next_due``), creates the row and has the engine
keep a *scheduled start* of the episode at midnight (Oslo) of that day: no instance waits months
for it, and the then-current version of the diagram runs when it falls due. The next one is
scheduled when the previous one is recorded, so the cycle follows the municipality's interval
setting as it is at that time."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Callable

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.cases.models import Case
from webapp.cases.operations import DomainError
from webapp.clock import OSLO
from webapp.evaluations.models import DECISIONS, Evaluation
from webapp.settings.operations import get_setting

EVALUATION_PROCESS = "evaluation"
#: ``schedule_episode(process_id, due_at, data, key=None) -> scheduled start id``, bound to the
#: caller's transaction (``HandlerContext.schedule_episode`` or ``engine.episode_scheduler``).
ScheduleEpisode = Callable[..., int]
#: A yearly need check between full evaluations (guideline 002: the need is assessed yearly).
NEED_CHECK_MONTHS = 12


def _last_done(session: Session, case_id: int, kind: str | None = None) -> date | None:
    query = select(Evaluation.evaluated_at).where(Evaluation.case_id == case_id, Evaluation.status == "done")
    if kind is not None:
        query = query.where(Evaluation.kind == kind)
    at = session.scalar(query.order_by(Evaluation.evaluated_at.desc()).limit(1))
    return at.astimezone(OSLO).date() if at else None


def next_due(session: Session, case: Case, today: date) -> tuple[str, date]:
    """(kind, due day) of the case's next evaluation episode.

    A full evaluation falls due ``evaluation_interval_months`` after the last full one (or after
    activation); with ``need_check_yearly`` a need check comes a year after the last evaluation
    of either kind when that is earlier. Counts what the caller's transaction recorded (an
    evaluation just answered), so it flushes first."""
    session.flush()
    started = case.activated_at.astimezone(OSLO).date() if case.activated_at else today
    interval = int(get_setting(session, "evaluation_interval_months"))
    full_due = (_last_done(session, case.id, "evaluation") or started) + relativedelta(months=interval)
    if get_setting(session, "need_check_yearly"):
        check_due = (_last_done(session, case.id) or started) + relativedelta(months=NEED_CHECK_MONTHS)
        if check_due < full_due:
            return "need_check", check_due
    return "evaluation", full_due


def start_data(evaluation: Evaluation) -> dict:
    """Start data of the evaluation episode (the diagram reads ``evaluation["kind"]``)."""
    return {"evaluation": {"evaluation_id": evaluation.id, "kind": evaluation.kind,
                           "due_on": evaluation.due_on.isoformat()}}


def scheduled_key(evaluation_id: int) -> str:
    """The scheduled start's reference to its evaluation."""
    return f"evaluation:{evaluation_id}"


def schedule(session: Session, case: Case, *, at: datetime, today: date, actor_id: int | None = None,
             schedule_episode: ScheduleEpisode) -> Evaluation:
    """The case's next evaluation (or need check) and the scheduled start of its episode at the
    start of its due day, in the caller's transaction."""
    kind, due_on = next_due(session, case, today)
    evaluation = Evaluation(case_id=case.id, instance_id=None, kind=kind, due_on=due_on, status="scheduled",
                            created_at=at)
    session.add(evaluation)
    session.flush()
    record(session, "evaluation_scheduled", at=at, actor_id=actor_id, case_id=case.id,
           **(titled("Evaluering planlagt %(date)s", date=f"{due_on:%d.%m.%Y}") if kind == "evaluation"
              else titled("Årlig vurdering av behovet planlagt %(date)s", date=f"{due_on:%d.%m.%Y}")),
           evaluation_id=evaluation.id, kind=kind, due_on=due_on.isoformat())
    schedule_episode(EVALUATION_PROCESS, datetime.combine(due_on, time(0, 0), OSLO), start_data(evaluation),
                     key=scheduled_key(evaluation.id))
    return evaluation


def begin(session: Session, evaluation: Evaluation, *, instance_id: int, at: datetime) -> Evaluation:
    """The evaluation fell due and its episode started: link the row to the episode."""
    if evaluation.status != "scheduled":
        raise DomainError("Evalueringen er ikke lenger planlagt.")
    evaluation.instance_id = instance_id
    record(session, "evaluation_due", at=at, actor_id=None, case_id=evaluation.case_id, instance_id=instance_id,
           **(titled("Tid for evaluering") if evaluation.kind == "evaluation"
              else titled("Tid for årlig vurdering av behovet")),
           evaluation_id=evaluation.id, kind=evaluation.kind)
    return evaluation


def get(session: Session, case: Case, evaluation_id) -> Evaluation:
    try:
        evaluation = session.get(Evaluation, int(evaluation_id))
    except (TypeError, ValueError):
        evaluation = None
    if evaluation is None or evaluation.case_id != case.id:
        raise DomainError("Evalueringen finnes ikke i denne saken.")
    return evaluation


def record_evaluation(session: Session, evaluation: Evaluation, answers: dict, *, at: datetime,
                      actor_id: int | None) -> Evaluation:
    decision = answers.get("decision")
    if decision not in DECISIONS:
        raise DomainError("Velg hva gruppen skal gjøre videre.")
    if evaluation.status != "scheduled":
        raise DomainError("Evalueringen er allerede registrert.")
    for field in ("composition", "atmosphere", "efficiency", "challenges", "work", "persons_view",
                  "decision_reason"):
        setattr(evaluation, field, answers.get(field) or None)
    evaluation.still_needed = answers.get("still_needed") == "ja"
    evaluation.decision = decision
    evaluation.status, evaluation.evaluated_at, evaluation.evaluated_by_id = "done", at, actor_id
    labels = {"continue": "gruppen fortsetter", "change_composition": "sammensetningen endres",
              "close": "gruppen avsluttes"}
    record(session, "evaluation_recorded", at=at, actor_id=actor_id, case_id=evaluation.case_id,
           **(titled("Evaluering registrert: %(decision)s", decision=labels[decision])
              if evaluation.kind == "evaluation"
              else titled("Årlig vurdering av behovet registrert: %(decision)s", decision=labels[decision])),
           evaluation_id=evaluation.id, decision=decision)
    return evaluation


def cancel_scheduled(session: Session, case_id: int, *, at: datetime, actor_id: int | None, reason: str) -> int:
    """Mark the case's scheduled evaluations cancelled (closing; the engine cancels their
    scheduled starts with the other episodes)."""
    rows = session.scalars(select(Evaluation).where(Evaluation.case_id == case_id,
                                                    Evaluation.status == "scheduled")).all()
    for evaluation in rows:
        evaluation.status, evaluation.decision_reason = "cancelled", reason
        record(session, "evaluation_cancelled", at=at, actor_id=actor_id, case_id=case_id,
               **titled("Planlagt evaluering avlyst"), evaluation_id=evaluation.id, reason=reason)
    return len(rows)


def earliest_scheduled(evaluations) -> Evaluation | None:
    """``next_evaluation`` taken from a case's evaluations already read."""
    return min((e for e in evaluations if e.status == "scheduled"), key=lambda e: e.due_on, default=None)


def next_evaluation(session: Session, case_id: int) -> Evaluation | None:
    return session.scalar(select(Evaluation).where(Evaluation.case_id == case_id, Evaluation.status == "scheduled")
                          .order_by(Evaluation.due_on).limit(1))
