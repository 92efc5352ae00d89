"""State changes of a plan. Each is one small function that changes the rows, makes the plan's
next version where the plan's content changed, and writes its audit event, in the caller's
transaction. Audit titles are register data: they name what happened, never what the plan says.

The plan episode (processes/individual_plan.bpmn) calls these through handlers/plans.py; the
meeting's steps call :func:`update_from_meeting`; the case page calls :func:`start_plan` and
:func:`hand_over`.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit.operations import record, titled
from webapp.auth.models import User
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import DomainError, current_coordinator
from webapp.clock import OSLO
from webapp.meetings.models import Measure, MeasureNote
from webapp.plans.models import (
    CURRENT_STATUSES, GOAL_STATUSES, GOAL_TERMS, PLAN_KINDS, SECTIONS, Plan, PlanGoal, PlanVersion, RelayHandover,
)
from webapp.settings.operations import get_setting

PLAN_PROCESS = "individual_plan"
#: Norwegian names of the two kinds (register data: that a plan exists and of which kind)
KIND_LABELS = {"individual_plan": "individuell plan", "relay_log": "stafettlogg"}
SOURCE_LABELS = {"draft": "utkast", "adopted": "vedtatt", "meeting": "oppdatert i møte", "revision": "revidert",
                 "handover": "ny stafettholder", "approved": "godkjent"}
MEASURE_STATUSES = ("open", "done", "not_done")


def scheduled_key(plan_id: int) -> str:
    """The scheduled start of a plan's revision episode."""
    return f"plan:{plan_id}:revision"


def current_plan(session: Session, case_id: int) -> Plan | None:
    return session.scalar(select(Plan).where(Plan.case_id == case_id, Plan.status.in_(CURRENT_STATUSES))
                          .order_by(Plan.id.desc()).limit(1))


def latest_plan(session: Session, case_id: int) -> Plan | None:
    """The group's latest plan of any status: the current one if there is one (a new plan is
    started only when none is current), else the last ended or refused one, still its history."""
    return session.scalar(select(Plan).where(Plan.case_id == case_id).order_by(Plan.id.desc()).limit(1))


def adopted_plan(session: Session, case_id: int) -> Plan | None:
    plan = current_plan(session, case_id)
    return plan if plan is not None and plan.status == "adopted" else None


def get(session: Session, case: Case, plan_id) -> Plan:
    try:
        plan = session.get(Plan, int(plan_id))
    except (TypeError, ValueError):
        plan = None
    if plan is None or plan.case_id != case.id:
        raise DomainError("Planen finnes ikke i denne saken.")
    return plan


def relay_log_allowed(session: Session, case: Case, today: date) -> bool:
    """The municipality uses the relay log and the person is under its maximum age (000, BTI)."""
    if not get_setting(session, "uses_relay_log"):
        return False
    age = case.person.age_on(today) if case.person is not None else None
    return age is None or age < int(get_setting(session, "relay_log_max_age"))


def default_kind(session: Session, case: Case, today: date) -> str:
    """A group led by a stafettholder keeps a relay log; every other group an individual plan."""
    appointment = current_coordinator(session, case.id)
    if appointment is not None and appointment.kind == "relay_holder" and relay_log_allowed(session, case, today):
        return "relay_log"
    return "individual_plan"


def _member(session: Session, case_id: int, member_id) -> CaseMember:
    try:
        member = session.get(CaseMember, int(member_id))
    except (TypeError, ValueError):
        member = None
    if member is None or member.case_id != case_id or not member.active:
        raise DomainError("Medlemmet finnes ikke i denne gruppen.")
    return member


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.full_name if user else None


# --- snapshot and versions --------------------------------------------------------------------

def goals_of(session: Session, plan: Plan) -> list[PlanGoal]:
    return session.scalars(select(PlanGoal).where(PlanGoal.plan_id == plan.id)
                           .order_by(PlanGoal.position, PlanGoal.id)).all()


def measures_of(session: Session, plan: Plan) -> list[Measure]:
    goal_ids = select(PlanGoal.id).where(PlanGoal.plan_id == plan.id)
    return session.scalars(select(Measure).where(Measure.goal_id.in_(goal_ids))
                           .order_by(Measure.deadline, Measure.id)).all()


def snapshot(session: Session, plan: Plan) -> dict:
    """The whole plan as plain JSON: what a version keeps, what the PDF and the diff read."""
    case = session.get(Case, plan.case_id)
    members = {m.id: m for m in session.scalars(select(CaseMember).where(CaseMember.case_id == plan.case_id))}
    appointment = current_coordinator(session, plan.case_id)
    measures = measures_of(session, plan)
    notes: dict[int, list] = {}
    if measures:
        for note in session.scalars(select(MeasureNote).where(MeasureNote.measure_id.in_([m.id for m in measures]))
                                    .order_by(MeasureNote.at, MeasureNote.id)):
            notes.setdefault(note.measure_id, []).append(
                {"at": note.at.isoformat(), "status": note.status, "note": note.note, "by": note.by_name})

    def name(member_id):
        return members[member_id].name if member_id in members else None

    return {
        "kind": plan.kind, "status": plan.status, "case_reference": case.reference,
        "person": case.person.full_name if case.person is not None else None,
        "coordinator": _name(session, appointment.user_id) if appointment else None,
        "secretary": name(plan.secretary_member_id), "holder": name(plan.holder_member_id),
        "participants": [{"member_id": i, "name": name(i), "role": members[i].role}
                         for i in plan.participant_ids or [] if i in members],
        "sections": {key: (plan.content or {}).get(key) or "" for key in SECTIONS},
        "goals": [{"id": g.id, "term": g.term, "text": g.text, "status": g.status} for g in goals_of(session, plan)],
        "measures": [{"id": m.id, "goal_id": m.goal_id, "description": m.description,
                      "responsible": name(m.responsible_member_id), "responsible_member_id": m.responsible_member_id,
                      "scope": m.scope, "how": m.how, "deadline": m.deadline.isoformat(), "status": m.status,
                      "notes": notes.get(m.id, [])} for m in measures],
        "period_from": plan.period_from.isoformat() if plan.period_from else None,
        "period_to": plan.period_to.isoformat() if plan.period_to else None,
        "revision_due_on": plan.revision_due_on.isoformat() if plan.revision_due_on else None,
        "consent": {"signed_by": plan.consent_signed_by, "how": plan.consent_how,
                    "signed_on": plan.consent_signed_on.isoformat() if plan.consent_signed_on else None},
        "adopted_at": plan.adopted_at.isoformat() if plan.adopted_at else None,
    }


def make_version(session: Session, plan: Plan, *, source: str, reason: str, at: datetime, actor_id: int | None,
                 meeting_id: int | None = None) -> PlanVersion:
    """The plan's next version: a snapshot with who, when and why (``reason`` is content: it is
    kept in the version, not in the audit title)."""
    session.flush()
    plan.version_count = (plan.version_count or 0) + 1
    version = PlanVersion(plan_id=plan.id, number=plan.version_count, source=source, reason=reason.strip(),
                          made_by_id=actor_id, made_by_name=_name(session, actor_id), meeting_id=meeting_id,
                          snapshot=snapshot(session, plan), at=at)
    session.add(version)
    session.flush()
    record(session, "plan_version", at=at, actor_id=actor_id, case_id=plan.case_id,
           **titled("%(plan)s: versjon %(version)s (%(source)s)", plan=KIND_LABELS[plan.kind].capitalize(),
                    version=version.number, source=SOURCE_LABELS.get(source, source)),
           plan_id=plan.id, version=version.number, source=source)
    return version


def versions(session: Session, plan: Plan) -> list[PlanVersion]:
    return session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan.id)
                           .order_by(PlanVersion.number.desc())).all()


def version(session: Session, plan: Plan, number) -> PlanVersion:
    try:
        found = session.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan.id,
                                                         PlanVersion.number == int(number)))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise DomainError("Versjonen finnes ikke.")
    return found


def latest_approved(session: Session, plan: Plan) -> PlanVersion | None:
    return session.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan.id,
                                                    PlanVersion.approved_at.is_not(None))
                          .order_by(PlanVersion.number.desc()).limit(1))


def archive(version: PlanVersion, pdf: bytes, *, at: datetime) -> PlanVersion:
    """The approved version, archived as PDF (webapp/plans/documents.py renders it)."""
    version.approved_at, version.archived_pdf = at, pdf
    return version


# --- the plan episode -------------------------------------------------------------------------

def start_plan(session: Session, case: Case, *, kind: str, at: datetime, actor_id: int | None,
               start_episode: Callable[[str, dict], int]) -> Plan:
    """A plan for the group, and its episode (consent, who takes part, drafting, adoption).
    No plan without a coordinator (002) and at most one current plan per group."""
    if kind not in PLAN_KINDS:
        raise DomainError("Ukjent plantype.")
    if case.status not in ("establishing", "active"):
        raise DomainError("Gruppen er ikke aktiv.")
    if current_coordinator(session, case.id) is None:
        raise DomainError("Det utarbeides ikke individuell plan uten koordinator.")
    if current_plan(session, case.id) is not None:
        raise DomainError("Gruppen har allerede en plan.")
    plan = Plan(case_id=case.id, kind=kind, status="consent_pending", content={}, participant_ids=[],
                created_at=at)
    session.add(plan)
    session.flush()
    record(session, "plan_started", at=at, actor_id=actor_id, case_id=case.id,
           **titled("Arbeidet med %(plan)s er startet", plan=KIND_LABELS[kind]), plan_id=plan.id, kind=kind)
    start_episode(PLAN_PROCESS, start_data(plan, "establish"))
    return plan


def start_data(plan: Plan, phase: str, writer_user_id: int | None = None) -> dict:
    return {"plan": {"plan_id": plan.id, "kind": plan.kind, "label": KIND_LABELS[plan.kind], "phase": phase,
                     "writer_user_id": writer_user_id}}


def begin(session: Session, plan: Plan, *, instance_id: int, at: datetime) -> Plan:
    plan.instance_id = instance_id
    return plan


def writer_user_id(session: Session, plan: Plan) -> int | None:
    """Who writes the plan: the secretary (004) or the stafettholder, when they have an account;
    otherwise the coordinator."""
    member_id = plan.holder_member_id if plan.kind == "relay_log" else plan.secretary_member_id
    member = session.get(CaseMember, member_id) if member_id else None
    if member is not None and member.active and member.user_id:
        return member.user_id
    appointment = current_coordinator(session, plan.case_id)
    return appointment.user_id if appointment else None


def record_consent(session: Session, plan: Plan, *, given: bool, signed_by: str, signed_how: str,
                   signed_on: date, refusal_reason: str | None, participant_ids: list, writer_member_id,
                   at: datetime, actor_id: int | None) -> Plan:
    """The person's consent to the plan (pbrl § 2-5: no individual plan without consent), who
    takes part and who writes it."""
    if plan.status != "consent_pending":
        raise DomainError("Samtykket til planen er allerede registrert.")
    if not (signed_by or "").strip():
        raise DomainError("Skriv hvem som samtykket.")
    plan.consent_signed_by, plan.consent_how, plan.consent_signed_on = signed_by.strip(), signed_how, signed_on
    if not given:
        plan.status, plan.consent_refusal_reason, plan.ended_at = "refused", refusal_reason, at
        record(session, "plan_consent_refused", at=at, actor_id=actor_id, case_id=plan.case_id,
               **titled("Samtykke til %(plan)s ikke gitt", plan=KIND_LABELS[plan.kind]), plan_id=plan.id)
        return plan
    plan.participant_ids = sorted({_member(session, plan.case_id, i).id for i in participant_ids})
    if writer_member_id not in (None, ""):
        writer = _member(session, plan.case_id, writer_member_id)
        if plan.kind == "relay_log":
            plan.holder_member_id = writer.id
        else:
            plan.secretary_member_id = writer.id
    plan.status = "drafting"
    record(session, "plan_consent_given", at=at, actor_id=actor_id, case_id=plan.case_id,
           **titled("Samtykke til %(plan)s gitt", plan=KIND_LABELS[plan.kind]), plan_id=plan.id, signed_how=signed_how)
    return plan


def write_goals(session: Session, plan: Plan, *, sections: dict, new_goals: list[dict], goal_changes: list[dict],
                at: datetime, actor_id: int | None) -> list[PlanGoal]:
    """The plan's text sections (the person's own words first), new goals and changes to the
    existing ones (achieved, dropped, reworded). No version here: the caller makes one when the
    change is complete (a drafting step, a meeting, a revision)."""
    if plan.status not in ("drafting", "adopted"):
        raise DomainError("Planen kan ikke endres nå.")
    content = dict(plan.content or {})
    for key in SECTIONS:
        if key in sections:
            content[key] = (sections.get(key) or "").strip()
    plan.content = content
    existing = {g.id: g for g in goals_of(session, plan)}
    for row in goal_changes:
        goal = existing.get(int(row["goal_id"])) if str(row.get("goal_id", "")).isdigit() else None
        if goal is None:
            raise DomainError("Målet finnes ikke i planen.")
        if row.get("status"):
            if row["status"] not in GOAL_STATUSES:
                raise DomainError("Ugyldig status for mål.")
            goal.status = row["status"]
        if (row.get("new_text") or "").strip():
            goal.text = row["new_text"].strip()
    position = max((g.position for g in existing.values()), default=0)
    added = []
    for row in new_goals:
        text = (row.get("text") or "").strip()
        if not text:
            continue
        if row.get("term", "long") not in GOAL_TERMS:
            raise DomainError("Velg om målet er langsiktig eller kortsiktig.")
        position += 1
        goal = PlanGoal(plan_id=plan.id, term=row.get("term", "long"), text=text, status="active",
                        position=position, created_at=at)
        session.add(goal)
        added.append(goal)
    session.flush()
    if not any(g.status == "active" for g in goals_of(session, plan)):
        raise DomainError("Planen må ha minst ett mål.")
    record(session, "plan_goals_written", at=at, actor_id=actor_id, case_id=plan.case_id,
           **titled("Mål i %(plan)s skrevet", plan=KIND_LABELS[plan.kind]), plan_id=plan.id, new_goals=len(added),
           changed_goals=len(goal_changes))
    return added


def _goal(session: Session, plan: Plan, goal_id) -> PlanGoal:
    goal = session.get(PlanGoal, int(goal_id)) if str(goal_id or "").isdigit() else None
    if goal is None or goal.plan_id != plan.id:
        raise DomainError("Velg hvilket mål tiltaket hører til.")
    return goal


def add_measures(session: Session, plan: Plan, rows: list[dict], *, at: datetime, actor_id: int | None,
                 meeting_id: int | None = None) -> list[Measure]:
    """New measures of the plan, each linked to a goal, with scope, responsible, how and deadline.
    They are the group's measures: followed up like every measure agreed in a meeting."""
    added = []
    for row in rows:
        goal = _goal(session, plan, row.get("goal_id"))
        member = _member(session, plan.case_id, row.get("responsible_member_id"))
        try:
            deadline = date.fromisoformat(str(row.get("deadline")))
        except ValueError:
            raise DomainError("Sett en frist for tiltaket.") from None
        measure = Measure(case_id=plan.case_id, meeting_id=meeting_id, goal_id=goal.id,
                          description=row["description"].strip(), scope=(row.get("scope") or "").strip() or None,
                          how=(row.get("how") or "").strip() or None, responsible_member_id=member.id,
                          deadline=deadline, status="open", created_at=at)
        session.add(measure)
        added.append(measure)
    session.flush()
    if added:
        record(session, "plan_measures_added", at=at, actor_id=actor_id, case_id=plan.case_id,
               **titled("%(count)s tiltak lagt til i %(plan)s", count=len(added), plan=KIND_LABELS[plan.kind]),
               plan_id=plan.id, count=len(added))
    return added


def link_measures(session: Session, plan: Plan, links: list[tuple[Measure, object]]) -> None:
    """Measures agreed in a meeting that serve a goal of the plan: linked, so that they are the
    plan's measures too."""
    for measure, goal_id in links:
        if goal_id not in (None, ""):
            measure.goal_id = _goal(session, plan, goal_id).id


def record_progress(session: Session, plan: Plan | None, rows: list[dict], *, at: datetime, actor_id: int | None,
                    meeting_id: int | None = None) -> int:
    """Progress notes on measures, and their new status (done, not done, or still open)."""
    from webapp.meetings.operations import close_measure

    by = _name(session, actor_id)
    count = 0
    for row in rows:
        measure = session.get(Measure, int(row["measure_id"])) if str(row.get("measure_id", "")).isdigit() else None
        case_id = plan.case_id if plan is not None else None
        if measure is None or (case_id is not None and measure.case_id != case_id):
            raise DomainError("Tiltaket finnes ikke i denne saken.")
        status = row.get("status") or "open"
        if status not in MEASURE_STATUSES:
            raise DomainError("Ugyldig status for tiltak.")
        note = (row.get("progress") or row.get("reason") or "").strip()
        if status != "open" and measure.status == "open":
            close_measure(session, measure, status, note or None, at=at, actor_id=actor_id)
        if note:
            session.add(MeasureNote(measure_id=measure.id, meeting_id=meeting_id, status=status, note=note,
                                    by_name=by, at=at))
            count += 1
    return count


def adopt(session: Session, plan: Plan, *, period_from: date, period_to: date | None, revision_due_on: date,
          reason: str, at: datetime, actor_id: int | None) -> PlanVersion:
    """The plan is adopted with the person (first time, or after a revision): its period and its
    next revision date; the adopted version is the one archived."""
    if plan.status not in ("drafting", "adopted"):
        raise DomainError("Planen kan ikke vedtas nå.")
    if period_to is not None and period_to < period_from:
        raise DomainError("Planperioden kan ikke slutte før den begynner.")
    revising = plan.status == "adopted"
    plan.period_from, plan.period_to, plan.revision_due_on = period_from, period_to, revision_due_on
    plan.status = "adopted"
    if not revising:
        plan.adopted_at = at
    record(session, "plan_revised" if revising else "plan_adopted", at=at, actor_id=actor_id,
           case_id=plan.case_id,
           **(titled("%(plan)s revidert, neste revisjon %(date)s", plan=KIND_LABELS[plan.kind].capitalize(),
                     date=f"{revision_due_on:%d.%m.%Y}") if revising
              else titled("%(plan)s vedtatt, neste revisjon %(date)s", plan=KIND_LABELS[plan.kind].capitalize(),
                          date=f"{revision_due_on:%d.%m.%Y}")),
           plan_id=plan.id, revision_due_on=revision_due_on.isoformat())
    return make_version(session, plan, source="revision" if revising else "adopted", reason=reason, at=at,
                        actor_id=actor_id)


def schedule_revision(session: Session, plan: Plan, *, schedule_episode, cancel_scheduled) -> None:
    """The revision episode starts at midnight (Oslo) of the plan's revision date; a date moved by
    a later revision or meeting replaces the earlier scheduled start."""
    if plan.revision_due_on is None or plan.status != "adopted":
        return
    cancel_scheduled(key=scheduled_key(plan.id), reason="Ny revisjonsdato")
    schedule_episode(PLAN_PROCESS, datetime.combine(plan.revision_due_on, time(0, 0), OSLO),
                     start_data(plan, "revision"), key=scheduled_key(plan.id))


def begin_revision(session: Session, plan: Plan, *, instance_id: int, at: datetime) -> Plan:
    if plan.status != "adopted":
        raise DomainError("Planen er ikke vedtatt.")
    plan.instance_id = instance_id
    record(session, "plan_revision_due", at=at, case_id=plan.case_id, instance_id=instance_id,
           **titled("Tid for revisjon av %(plan)s", plan=KIND_LABELS[plan.kind]), plan_id=plan.id)
    return plan


def update_from_meeting(session: Session, plan: Plan, meeting, *, new_goals: list[dict], goal_changes: list[dict],
                        revision_due_on: date | None, at: datetime, actor_id: int | None) -> PlanVersion:
    """The meeting's changes to goals (measures and progress were recorded by the meeting's own
    step) make the plan's next version, linked to the meeting."""
    if new_goals or goal_changes:
        write_goals(session, plan, sections={}, new_goals=new_goals, goal_changes=goal_changes, at=at,
                    actor_id=actor_id)
    if revision_due_on is not None:
        plan.revision_due_on = revision_due_on
    return make_version(session, plan, source="meeting", reason=f"Oppdatert i møte {meeting.number}", at=at,
                        actor_id=actor_id, meeting_id=meeting.id)


def hand_over(session: Session, plan: Plan, *, to_member_id, reason: str, at: datetime,
              actor_id: int | None) -> RelayHandover:
    """The relay log passes to a new stafettholder; the earlier holders stay in its history."""
    if plan.kind != "relay_log" or plan.status not in CURRENT_STATUSES:
        raise DomainError("Bare en stafettlogg i bruk kan overføres.")
    member = _member(session, plan.case_id, to_member_id)
    if member.id == plan.holder_member_id:
        raise DomainError("Velg en annen enn den som er stafettholder nå.")
    if not (reason or "").strip():
        raise DomainError("Skriv hvorfor stafetten overføres.")
    handover = RelayHandover(plan_id=plan.id, from_member_id=plan.holder_member_id, to_member_id=member.id,
                             reason=reason.strip(), by_id=actor_id, at=at)
    session.add(handover)
    plan.holder_member_id = member.id
    record(session, "relay_handover", at=at, actor_id=actor_id, case_id=plan.case_id,
           **titled("Stafetten overført til %(name)s", name=member.name), plan_id=plan.id, to_member_id=member.id)
    make_version(session, plan, source="handover", reason=reason, at=at, actor_id=actor_id)
    return handover


def handovers(session: Session, plan: Plan) -> list[RelayHandover]:
    return session.scalars(select(RelayHandover).where(RelayHandover.plan_id == plan.id)
                           .order_by(RelayHandover.at, RelayHandover.id)).all()


def end_plan(session: Session, case_id: int, *, at: datetime, actor_id: int | None, reason: str) -> int:
    """The group is closed: its current plan ends (the closing cancels the scheduled revision
    with the case's other scheduled starts)."""
    plans = session.scalars(select(Plan).where(Plan.case_id == case_id, Plan.status.in_(CURRENT_STATUSES))).all()
    for plan in plans:
        plan.status, plan.ended_at = "ended", at
        record(session, "plan_ended", at=at, actor_id=actor_id, case_id=case_id,
               **titled("%(plan)s avsluttet", plan=KIND_LABELS[plan.kind].capitalize()), plan_id=plan.id, reason=reason)
    return len(plans)
