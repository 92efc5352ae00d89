"""Scheduling and recording evaluations. Each episode of processes/evaluation.bpmn holds one
Evaluation row: the next one is scheduled when the previous one is recorded, so the cycle
follows the municipality's interval setting as it is at that time."""
from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.operations import record
from webapp.cases.models import Case
from webapp.cases.operations import DomainError
from webapp.clock import OSLO
from webapp.evaluations.models import DECISIONS, Evaluation
from webapp.settings.operations import get_setting

EVALUATION_PROCESS = "evaluation"
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
    of either kind when that is earlier."""
    started = case.activated_at.astimezone(OSLO).date() if case.activated_at else today
    interval = int(get_setting(session, "evaluation_interval_months"))
    full_due = (_last_done(session, case.id, "evaluation") or started) + relativedelta(months=interval)
    if get_setting(session, "need_check_yearly"):
        check_due = (_last_done(session, case.id) or started) + relativedelta(months=NEED_CHECK_MONTHS)
        if check_due < full_due:
            return "need_check", check_due
    return "evaluation", full_due


def schedule(session: Session, case: Case, *, instance_id: int, at: datetime, today: date) -> Evaluation:
    kind, due_on = next_due(session, case, today)
    evaluation = Evaluation(case_id=case.id, instance_id=instance_id, kind=kind, due_on=due_on, created_at=at)
    session.add(evaluation)
    session.flush()
    record(session, "evaluation_scheduled", at=at, actor_id=None, case_id=case.id,
           title=("Evaluering planlagt" if kind == "evaluation" else "Årlig vurdering av behovet planlagt")
           + f" {due_on:%d.%m.%Y}", evaluation_id=evaluation.id, kind=kind, due_on=due_on.isoformat())
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
           title=("Evaluering" if evaluation.kind == "evaluation" else "Årlig vurdering av behovet")
           + f" registrert: {labels[decision]}", evaluation_id=evaluation.id, decision=decision)
    return evaluation


def cancel_scheduled(session: Session, case_id: int, *, at: datetime, actor_id: int | None, reason: str) -> int:
    rows = session.scalars(select(Evaluation).where(Evaluation.case_id == case_id,
                                                    Evaluation.status == "scheduled")).all()
    for evaluation in rows:
        evaluation.status, evaluation.decision_reason = "cancelled", reason
        record(session, "evaluation_cancelled", at=at, actor_id=actor_id, case_id=case_id,
               title="Planlagt evaluering avlyst", evaluation_id=evaluation.id, reason=reason)
    return len(rows)


def next_evaluation(session: Session, case_id: int) -> Evaluation | None:
    return session.scalar(select(Evaluation).where(Evaluation.case_id == case_id, Evaluation.status == "scheduled")
                          .order_by(Evaluation.due_on).limit(1))
