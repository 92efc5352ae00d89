"""Service tasks of processes/individual_plan.bpmn, and the plan's part in a meeting
(processes/meeting.bpmn): the plan updated from the meeting, and with the setting
``plan_replaces_minutes`` (guideline 003) the updated plan approved and sent out instead of minutes."""
from __future__ import annotations

from datetime import date

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.cases.operations import DomainError, coordinator_user
from webapp.clock import OSLO
from webapp.meetings import operations as meeting_ops
from webapp.meetings.models import Measure, Meeting, Minutes
from webapp.meetings.notices import send_document
from webapp.plans import operations as ops
from webapp.plans.documents import plan_pdf
from webapp.plans.models import Plan, PlanVersion, SECTIONS


def _plan(ctx: HandlerContext) -> Plan:
    return ops.get(ctx.session, ctx.case, ctx.data["plan"]["plan_id"])


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def archive_version(ctx: HandlerContext, version: PlanVersion) -> bytes:
    """The version approved and archived as PDF (the same look as the minutes)."""
    now = ctx.clock.now()
    pdf = plan_pdf(version.snapshot, version_info(version, approved_at=now))
    ops.archive(version, pdf, at=now)
    return pdf


def version_info(version: PlanVersion, approved_at=None) -> dict:
    return {"number": version.number, "source": version.source, "reason": version.reason,
            "made_by_name": version.made_by_name, "at": version.at,
            "approved_at": approved_at or version.approved_at}


def _tell_coordinator(ctx: HandlerContext, subject: str, body: str) -> None:
    user = coordinator_user(ctx.session, ctx.case.id)
    if user is not None and user.email:
        ctx.outbox.send(user.email, f"{subject} ({ctx.case.reference})", body)


@handler("begin_plan")
def begin_plan(ctx: HandlerContext) -> bool:
    plan = _plan(ctx)
    if ctx.data["plan"].get("phase") == "revision":
        ops.begin_revision(ctx.session, plan, instance_id=ctx.instance_id, at=ctx.clock.now())
    else:
        ops.begin(ctx.session, plan, instance_id=ctx.instance_id, at=ctx.clock.now())
    return True


@handler("record_plan_consent")
def record_plan_consent(ctx: HandlerContext) -> dict:
    plan = _plan(ctx)
    given = ctx.data.get("consent_decision") == "gitt"
    ops.record_consent(ctx.session, plan, given=given, signed_by=ctx.data.get("signed_by", ""),
                       signed_how=ctx.data.get("signed_how"), signed_on=_date(ctx.data.get("signed_on")),
                       refusal_reason=ctx.data.get("refusal_reason"),
                       participant_ids=ctx.data.get("participants", []) if given else [],
                       writer_member_id=ctx.data.get("writer_member_id") if given else None,
                       at=ctx.clock.now(), actor_id=ctx.actor_id)
    return {"consent": given, "user_id": ops.writer_user_id(ctx.session, plan) if given else None}


@handler("plan_revision_due")
def plan_revision_due(ctx: HandlerContext) -> dict:
    """The revision date has come: whoever writes the plan gets the steps; the coordinator is told
    (a notice without content)."""
    plan = _plan(ctx)
    label = ops.KIND_LABELS[plan.kind]
    _tell_coordinator(ctx, f"Tid for revisjon av {label}",
                      f"Revisjonsdatoen for {label} er kommet. Logg inn for å gå gjennom planen sammen med personen.")
    return {"consent": True, "user_id": ops.writer_user_id(ctx.session, plan)}


@handler("record_plan_goals")
def record_plan_goals(ctx: HandlerContext) -> int:
    plan = _plan(ctx)
    now = ctx.clock.now()
    added = ops.write_goals(ctx.session, plan, sections={k: ctx.data.get(k) for k in SECTIONS},
                            new_goals=ctx.data.get("new_goals", []), goal_changes=ctx.data.get("goal_changes", []),
                            at=now, actor_id=ctx.actor_id)
    ops.make_version(ctx.session, plan, source="draft", reason="Mål og beskrivelse skrevet", at=now,
                     actor_id=ctx.actor_id)
    return len(added)


def start_follow_ups(ctx: HandlerContext, measures: list[Measure]) -> None:
    """Every measure is followed up (processes/measure.bpmn), in the plan or from a meeting."""
    from handlers.meetings import measure_start_data
    for measure in measures:
        ctx.start_episode("measure", measure_start_data(ctx, measure))


@handler("record_plan_measures")
def record_plan_measures(ctx: HandlerContext) -> int:
    plan = _plan(ctx)
    now = ctx.clock.now()
    ops.record_progress(ctx.session, plan, ctx.data.get("measure_progress", []), at=now, actor_id=ctx.actor_id)
    added = ops.add_measures(ctx.session, plan, ctx.data.get("new_measures", []), at=now, actor_id=ctx.actor_id)
    if not ops.measures_of(ctx.session, plan):
        raise DomainError("Planen må ha minst ett tiltak.")
    start_follow_ups(ctx, added)
    ops.make_version(ctx.session, plan, source="draft", reason="Tiltak skrevet", at=now, actor_id=ctx.actor_id)
    return len(added)


@handler("adopt_plan")
def adopt_plan(ctx: HandlerContext) -> bool:
    plan = _plan(ctx)
    now = ctx.clock.now()
    if ctx.data.get("decision") != "adopt":
        from webapp.audit.operations import record, titled
        record(ctx.session, "plan_changes_requested", at=now, actor_id=ctx.actor_id, case_id=ctx.case.id,
               **titled("%(plan)s sendt tilbake for endringer", plan=ops.KIND_LABELS[plan.kind].capitalize()),
               plan_id=plan.id)
        return False
    revision_due_on = _date(ctx.data.get("revision_due_on"))
    if revision_due_on is None or revision_due_on <= now.astimezone(OSLO).date():
        raise DomainError("Sett en revisjonsdato fram i tid.")
    version = ops.adopt(ctx.session, plan, period_from=_date(ctx.data.get("period_from")),
                        period_to=_date(ctx.data.get("period_to")), revision_due_on=revision_due_on,
                        reason=(ctx.data.get("note") or "").strip() or "Vedtatt sammen med personen",
                        at=now, actor_id=ctx.actor_id)
    archive_version(ctx, version)
    ops.schedule_revision(ctx.session, plan, schedule_episode=ctx.schedule_episode,
                          cancel_scheduled=ctx.cancel_scheduled)
    return True


# --- the plan in the meeting ------------------------------------------------------------------

def archive_with_minutes(ctx: HandlerContext, minutes: Minutes) -> None:
    """The minutes of a meeting that updated the plan are approved: so is the plan version the
    meeting made, archived as PDF beside the minutes."""
    number = (minutes.content or {}).get("plan_version")
    plan = ops.adopted_plan(ctx.session, ctx.case.id)
    if number is None or plan is None:
        return
    version = ops.version(ctx.session, plan, number)
    if version.approved_at is None:
        archive_version(ctx, version)


def update_plan_in_meeting(ctx: HandlerContext, meeting: Meeting, new_measures: list[Measure]) -> int | None:
    """The meeting's step also updates the plan: progress on measures, measures linked to goals,
    changed and new goals, the next revision date; one new plan version. Returns its number."""
    plan = ops.adopted_plan(ctx.session, ctx.case.id)
    now = ctx.clock.now()
    ops.record_progress(ctx.session, plan, [r for r in ctx.data.get("previous_measures", []) if r.get("progress")],
                        at=now, actor_id=ctx.actor_id, meeting_id=meeting.id)
    if plan is None:
        return None
    rows = ctx.data.get("new_measures", [])
    ops.link_measures(ctx.session, plan, list(zip(new_measures, [r.get("goal_id") for r in rows])))
    for measure, row in zip(new_measures, rows):
        measure.scope, measure.how = row.get("scope") or None, row.get("how") or None
    version = ops.update_from_meeting(ctx.session, plan, meeting, new_goals=ctx.data.get("new_goals", []),
                                      goal_changes=ctx.data.get("goal_changes", []),
                                      revision_due_on=_date(ctx.data.get("plan_revision_due_on")), at=now,
                                      actor_id=ctx.actor_id)
    if ctx.data.get("plan_revision_due_on"):
        ops.schedule_revision(ctx.session, plan, schedule_episode=ctx.schedule_episode,
                              cancel_scheduled=ctx.cancel_scheduled)
    return version.number


@handler("record_plan_meeting")
def record_plan_meeting(ctx: HandlerContext) -> dict:
    """Guideline 003: the plan is updated in the meeting instead of minutes. The meeting's record
    (attendance, the person's own account, recipients) is kept with it; no members' approval
    round: the coordinator approves the updated plan with the person and sends it out."""
    from handlers.meetings import _meeting, minutes_content, record_held
    meeting = _meeting(ctx)
    if ops.adopted_plan(ctx.session, ctx.case.id) is None:
        raise DomainError("Gruppen har ingen vedtatt plan å oppdatere.")
    content = {**minutes_content(ctx.data),
               "summary": "Den individuelle planen er oppdatert i møtet; planen er referatet."}
    minutes, measures = record_held(ctx, meeting, content, approval_rule="plan", approval_due_on=None)
    ctx.session.flush()
    number = update_plan_in_meeting(ctx, meeting, measures)
    minutes.content = {**content, "plan_version": number}
    start_follow_ups(ctx, measures)
    return {"minutes_id": minutes.id, "plan_version": number, "approval_rule": "plan", "cooperation": False}


@handler("distribute_plan")
def distribute_plan(ctx: HandlerContext) -> bool:
    """The updated plan version is approved, archived and sent to the recipients agreed in the
    meeting; it is also the meeting's archived record."""
    minutes = ctx.session.get(Minutes, int(ctx.data["held"]["minutes_id"]))
    meeting = ctx.session.get(Meeting, minutes.meeting_id)
    plan = ops.adopted_plan(ctx.session, ctx.case.id)
    if plan is None:
        raise DomainError("Gruppen har ingen vedtatt plan.")
    version = ops.version(ctx.session, plan, ctx.data["held"]["plan_version"])
    now = ctx.clock.now()
    pdf = archive_version(ctx, version)
    meeting_ops.approve_minutes(ctx.session, minutes, note=ctx.data.get("final_note"), pdf=pdf, at=now,
                                actor_id=ctx.actor_id, case_id=ctx.case.id)
    send_document(ctx.session, ctx.outbox, ctx.case, minutes.recipients or [],
                  f"Oppdatert plan etter ansvarsgruppemøte {meeting.number} ({ctx.case.reference})",
                  "Vedlagt er den oppdaterte planen fra møtet.", pdf, f"plan-{ctx.case.reference}-v{version.number}",
                  link=f"/saker/{ctx.case.id}/plan/versjoner/{version.number}.pdf", what="plan")
    meeting_ops.mark_distributed(ctx.session, minutes, at=now, actor_id=ctx.actor_id, case_id=ctx.case.id)
    return True
