"""Service tasks of processes/meeting.bpmn and processes/measure.bpmn."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.cases.own_access import person_side
from webapp.portal.notices import notify_person_side
from webapp.auth.models import User
from webapp.cases.models import CaseMember, Unit
from webapp.cases.operations import DomainError, coordinator_user, current_coordinator
from webapp.meetings import operations as ops
from webapp.meetings.models import Measure, Meeting, Minutes
from webapp.meetings.notices import distribute, invite, remind, send_letter_or_mail
from webapp.settings.operations import get_setting
from webapp.clock import OSLO
from webapp.transitions.operations import place_pending


def _meeting(ctx: HandlerContext) -> Meeting:
    meeting = ctx.session.get(Meeting, int(ctx.data["meeting_id"]))
    if meeting is None or meeting.case_id != ctx.case.id:
        raise DomainError("Møtet finnes ikke i denne saken.")
    return meeting


def _member(ctx: HandlerContext, member_id) -> CaseMember:
    member = ctx.session.get(CaseMember, int(member_id))
    if member is None or member.case_id != ctx.case.id:
        raise DomainError("Medlemmet finnes ikke i denne saken.")
    return member


def _acting_user(ctx: HandlerContext, member: CaseMember) -> int | None:
    """The user who does a member's task: the member, or the coordinator for outside participants."""
    if member.user_id:
        return member.user_id
    appointment = current_coordinator(ctx.session, ctx.case.id)
    return appointment.user_id if appointment else None


def meeting_start_data(session, case, meeting: Meeting) -> dict:
    """Start data of a meeting episode (also used by the establishment and by the previous meeting)."""
    suggestion = ops.suggest_minute_taker(session, case.id)
    data = {"meeting_id": meeting.id, "is_first_meeting": meeting.number == 1,
            "duration_minutes": meeting.duration_minutes}
    if meeting.starts_at:
        data["meeting_date"] = meeting.starts_at.astimezone(OSLO).date().isoformat()
    if suggestion is not None:
        data["minute_taker_member_id"] = str(suggestion.id)
    return data


def start_meeting(ctx: HandlerContext, proposed_on: date | None, place: str | None = None) -> int:
    """The next meeting on its day, and its episode: scheduled to start a lead time before the
    meeting (notice period + planning), or at once when that moment has passed."""
    now = ctx.clock.now()
    meeting = ops.create_meeting(ctx.session, ctx.case, at=now, actor_id=ctx.actor_id, proposed_on=proposed_on,
                                 place=place)
    place_pending(ctx.session, ctx.case, meeting, at=now, actor_id=ctx.actor_id)  # reviewed transitions
    ops.start_planning(ctx.session, meeting, meeting_start_data(ctx.session, ctx.case, meeting), at=now,
                       actor_id=ctx.actor_id, start_episode=ctx.start_episode,
                       schedule_episode=ctx.schedule_episode)
    return meeting.id


@handler("begin_meeting")
def begin_meeting(ctx: HandlerContext) -> bool:
    """First step of a meeting episode: link it to the meeting."""
    ops.begin_planning(ctx.session, _meeting(ctx), instance_id=ctx.instance_id, at=ctx.clock.now())
    return True


@handler("plan_meeting")
def plan_meeting(ctx: HandlerContext) -> dict:
    meeting = _meeting(ctx)
    hour, minute = (int(x) for x in ctx.data["meeting_time"].split(":"))
    starts_at = ops.local_start(date.fromisoformat(ctx.data["meeting_date"]), time(hour, minute))
    minute_taker = _member(ctx, ctx.data["minute_taker_member_id"])
    ops.plan_meeting(ctx.session, meeting, starts_at=starts_at,
                     duration_minutes=int(ctx.data.get("duration_minutes") or meeting.duration_minutes),
                     place=ctx.data.get("place"), video_link=ctx.data.get("video_link"),
                     minute_taker=minute_taker, theme=ctx.data.get("theme"), at=ctx.clock.now(),
                     actor_id=ctx.actor_id)
    # the next step, the person's wishes and needs, is theirs when they have a login
    if person_side(ctx.session, ctx.case.id, ctx.clock.today()):
        notify_person_side(ctx.session, ctx.outbox, ctx.case, ctx.clock.today(), "needs", acting=True)
    return {"starts_at": starts_at.isoformat(), "minute_taker_user_id": _acting_user(ctx, minute_taker)}


@handler("record_persons_needs")
def record_persons_needs(ctx: HandlerContext) -> bool:
    meeting = _meeting(ctx)
    text = ctx.data["persons_needs"]
    if ctx.data.get("person_attends") == "nei" and ctx.data.get("persons_views"):
        text += "\n\nPersonens syn (deltar ikke): " + ctx.data["persons_views"]
    ops.record_persons_needs(ctx.session, meeting, text, at=ctx.clock.now(), actor_id=ctx.actor_id)
    return True


@handler("set_agenda")
def set_agenda(ctx: HandlerContext) -> int:
    meeting = _meeting(ctx)
    items = [row["title"] for row in ctx.data.get("agenda", []) if row.get("title")]
    kept_ids = {int(x) for x in ctx.data.get("kept_matters", [])}
    kept = {i: ctx.data.get("kept_reason", "") for i in kept_ids}
    ops.set_agenda(ctx.session, meeting, items, kept=kept, agreed_with_person=bool(ctx.data.get("agreed_with_person")),
                   at=ctx.clock.now(), actor_id=ctx.actor_id)
    for matter in meeting.matters:  # matters on the agenda that the coordinator did not list
        if matter.on_agenda and matter.title not in meeting.agenda:
            meeting.agenda = [*meeting.agenda, matter.title]
    return len(meeting.agenda)


@handler("check_notice")
def check_notice(ctx: HandlerContext) -> bool:
    return ops.notice_ok(ctx.session, _meeting(ctx), ctx.clock.now())


@handler("apply_notice_decision")
def apply_notice_decision(ctx: HandlerContext) -> str:
    meeting = _meeting(ctx)
    if ctx.data.get("notice_decision") == "urgent":
        ops.accept_short_notice(ctx.session, meeting, ctx.data["urgent_reason"], at=ctx.clock.now(),
                                actor_id=ctx.actor_id)
    else:
        from webapp.meetings.rules import moved_meeting_errors
        if moved_meeting_errors(ctx.session, ctx.data, ctx.clock.now()):
            return "too_soon"  # not moved: the step comes back, naming the earliest date (no incident)
        ops.reschedule(ctx.session, meeting, ops.chosen_start(ctx.data), at=ctx.clock.now(), actor_id=ctx.actor_id)
    return ctx.data.get("notice_decision")


@handler("send_invitation")
def send_invitation(ctx: HandlerContext) -> dict:
    meeting = _meeting(ctx)
    invite(ctx.session, ctx.outbox, ctx.case, meeting)
    ops.mark_invited(ctx.session, meeting, at=ctx.clock.now(), actor_id=ctx.actor_id)
    return invitation_dates(ctx, meeting)


def invitation_dates(ctx: HandlerContext, meeting: Meeting) -> dict:
    """What the rest of the episode derives from the invitation: the meeting's dates
    (``operations.invitation_dates``) and whether the plan replaces the minutes."""
    from webapp.plans.operations import adopted_plan
    return {**ops.invitation_dates(ctx.session, meeting, now=ctx.clock.now()),
            # guideline 003: with an adopted plan, the plan is updated instead of minutes
            "plan_minutes": bool(get_setting(ctx.session, "plan_replaces_minutes"))
            and adopted_plan(ctx.session, ctx.case.id) is not None}


@handler("send_reminder")
def send_reminder(ctx: HandlerContext) -> bool:
    meeting = _meeting(ctx)
    if meeting.status != "invited" or meeting.starts_at <= ctx.clock.now():
        return False  # already held, or too late for a reminder
    remind(ctx.session, ctx.outbox, ctx.case, meeting)
    return True


def _approve_previous(ctx: HandlerContext, meeting: Meeting) -> None:
    """With approval at the next meeting: the previous minutes are approved (or not) here."""
    previous = ctx.session.scalar(select(Minutes).join(Meeting, Meeting.id == Minutes.meeting_id).where(
        Meeting.case_id == ctx.case.id, Meeting.number < meeting.number, Minutes.status == "awaiting_approval",
        Minutes.approval_rule == "next_meeting").order_by(Meeting.number.desc()).limit(1))
    if previous is None or ctx.data.get("previous_minutes_approved") != "ja":
        return
    from webapp.meetings.minutes import archive_pdf
    ops.approve_minutes(ctx.session, previous, note=ctx.data.get("previous_minutes_comments"),
                        pdf=archive_pdf(ctx.session, previous, approved_at=ctx.clock.now()),
                        at=ctx.clock.now(), actor_id=ctx.actor_id, case_id=ctx.case.id)
    distribute(ctx.session, ctx.outbox, ctx.case, previous)
    ops.mark_distributed(ctx.session, previous, at=ctx.clock.now(), actor_id=ctx.actor_id, case_id=ctx.case.id)
    from handlers.plans import archive_with_minutes
    archive_with_minutes(ctx, previous)


#: what a hold step's data keeps in the minutes besides attendance and measures
MINUTES_KEYS = ("previous_minutes_approved", "previous_minutes_comments", "persons_account", "services_account",
                "items", "summary", "next_meeting_date", "next_meeting_theme", "rules_reviewed",
                "cooperation_meeting", "recipients_how")


def minutes_content(data: dict) -> dict:
    """The record of a held meeting as its minutes keep it, from the hold step's data."""
    content = {k: data.get(k) for k in MINUTES_KEYS if k in data}
    content["attendance"] = [{**row, "present": ops.present(row)} for row in data.get("attendance", [])]
    content["previous_measures"] = data.get("previous_measures", [])
    content["new_measures"] = data.get("new_measures", [])
    return content


def record_held(ctx: HandlerContext, meeting: Meeting, content: dict, *, approval_rule: str,
                approval_due_on) -> tuple[Minutes, list[Measure]]:
    """The meeting held: attendance, measures reviewed (done or not; "Pågår" stays open) and new,
    and its minutes (``meetings.operations.record_meeting``)."""
    return ops.record_meeting(
        ctx.session, meeting, content, attendance=ctx.data.get("attendance", []),
        reviewed_measures=[r for r in ctx.data.get("previous_measures", []) if r.get("status") in ("done", "not_done")],
        new_measures=ctx.data.get("new_measures", []),
        recipients=[int(x) for x in ctx.data.get("recipients", [])], approval_rule=approval_rule,
        approval_due_on=approval_due_on, at=ctx.clock.now(), actor_id=ctx.actor_id)


@handler("record_meeting")
def record_meeting(ctx: HandlerContext) -> dict:
    meeting = _meeting(ctx)
    now = ctx.clock.now()
    rule = get_setting(ctx.session, "minutes_approval")
    due = (now.astimezone(OSLO).date() + timedelta(days=int(get_setting(ctx.session, "minutes_approval_days"))))
    content = minutes_content(ctx.data)
    _approve_previous(ctx, meeting)
    minutes, measures = record_held(ctx, meeting, content, approval_rule=rule,
                                    approval_due_on=due if rule == "members" else None)
    ctx.session.flush()
    from handlers.plans import start_follow_ups, update_plan_in_meeting
    plan_version = update_plan_in_meeting(ctx, meeting, measures)  # the plan updated in the same step
    if plan_version is not None:
        minutes.content = {**content, "plan_version": plan_version}
    start_follow_ups(ctx, measures)
    approvers = [m for m in ctx.session.scalars(select(CaseMember).where(
        CaseMember.case_id == ctx.case.id, CaseMember.active.is_(True), CaseMember.role.in_(ops.SERVICE_ROLES)))]
    return {
        "minutes_id": minutes.id, "approval_rule": rule,
        "approval_due": datetime.combine(due, time(23, 59), OSLO).isoformat(),
        "cooperation": ctx.data.get("cooperation_meeting") == "ja",
        "approvers": [{"member_id": m.id, "name": m.name, "user_id": _acting_user(ctx, m)} for m in approvers],
    }


def _round(ctx: HandlerContext) -> int:
    return int(ctx.data["held"].get("round", 1))


@handler("list_approvers")
def list_approvers(ctx: HandlerContext) -> list:
    """The approvers of this round; each answer carries the round, so that an answer kept from an
    earlier round (an approver who does not answer again) is never counted twice."""
    return [{**a, "round": _round(ctx)} for a in ctx.data["held"]["approvers"]]


@handler("record_approvals")
def record_approvals(ctx: HandlerContext) -> dict:
    """This round's answers; a member who did not answer before the deadline approves silently."""
    minutes = ctx.session.get(Minutes, int(ctx.data["held"]["minutes_id"]))
    count, remarks = 0, []
    for item in ctx.data.get("approvals") or []:
        if not isinstance(item, dict) or "approved" not in item or item.get("round", 1) != _round(ctx):
            continue
        member = _member(ctx, item["member_id"])
        approved = item["approved"] == "ja"
        ops.record_approval(ctx.session, minutes, member, approved, item.get("comment"),
                            at=ctx.clock.now(), actor_id=ctx.actor_id)
        count += 1
        if not approved:
            remarks.append({"member_id": member.id, "name": member.name, "comment": item.get("comment") or ""})
    return {"round": _round(ctx), "answers": count, "corrections": len(remarks), "remarks": remarks}


@handler("record_minutes_correction")
def record_minutes_correction(ctx: HandlerContext) -> dict:
    """The minutes are corrected: a new approval round with a new deadline (the held data is
    replaced by its next round)."""
    minutes = ctx.session.get(Minutes, int(ctx.data["held"]["minutes_id"]))
    now = ctx.clock.now()
    user = ctx.session.get(User, ctx.actor_id) if ctx.actor_id else None
    changes = {k: ctx.data[k] for k in ops.CORRECTABLE if k in ctx.data}
    number = ops.correct_minutes(ctx.session, minutes, correction=ctx.data.get("correction", ""), changes=changes,
                                 remarks=ctx.data["approval_round"]["remarks"],
                                 by=user.full_name if user else None, at=now, actor_id=ctx.actor_id,
                                 case_id=ctx.case.id)
    due = now.astimezone(OSLO).date() + timedelta(days=int(get_setting(ctx.session, "minutes_approval_days")))
    minutes.approval_due_on = due
    return {**ctx.data["held"], "round": number,
            "approval_due": datetime.combine(due, time(23, 59), OSLO).isoformat()}


@handler("record_cooperation")
def record_cooperation(ctx: HandlerContext) -> bool:
    from webapp.audit.operations import record, titled
    record(ctx.session, "cooperation_meeting_held", at=ctx.clock.now(), actor_id=ctx.actor_id,
           case_id=ctx.case.id, **titled("Samarbeidsmøte for rolleavklaring holdt"),
           meeting_id=int(ctx.data["meeting_id"]))
    return True


@handler("new_approval_round")
def new_approval_round(ctx: HandlerContext) -> list:
    """The answers of the previous round are recorded; the new round starts with none."""
    return []


@handler("finalize_and_distribute")
def finalize_and_distribute(ctx: HandlerContext) -> bool:
    from webapp.meetings.minutes import archive_pdf
    minutes = ctx.session.get(Minutes, int(ctx.data["held"]["minutes_id"]))
    now = ctx.clock.now()
    ops.approve_minutes(ctx.session, minutes, note=ctx.data.get("final_note"),
                        pdf=archive_pdf(ctx.session, minutes, approved_at=now), at=now,
                        actor_id=ctx.actor_id, case_id=ctx.case.id)
    distribute(ctx.session, ctx.outbox, ctx.case, minutes)
    ops.mark_distributed(ctx.session, minutes, at=now, actor_id=ctx.actor_id, case_id=ctx.case.id)
    _record_minutes_sender(ctx, minutes, now)
    from handlers.plans import archive_with_minutes
    archive_with_minutes(ctx, minutes)
    return True


# --- who sends the minutes (setting minutes_sent_by; admin/settings work) -------------------------
def minutes_sender(session, case, minutes: Minutes) -> tuple[str, str | None]:
    """(role, name) of who sends the minutes out: the coordinator (002), or the minute-taker
    when the group has no individual plan (003, setting ``minute_taker_without_plan``)."""
    meeting = session.get(Meeting, minutes.meeting_id)
    if (get_setting(session, "minutes_sent_by") == "minute_taker_without_plan" and case.individual_plan != "yes"
            and meeting is not None and meeting.minute_taker_member_id):
        taker = session.get(CaseMember, meeting.minute_taker_member_id)
        if taker is not None:
            return "referent", taker.name
    coordinator = coordinator_user(session, case.id)
    return "koordinator", coordinator.full_name if coordinator else None


def _record_minutes_sender(ctx: HandlerContext, minutes: Minutes, now: datetime) -> None:
    from webapp.audit.operations import record, titled
    role, name = minutes_sender(ctx.session, ctx.case, minutes)
    if role == "referent":
        title = (titled("Referatet sendt ut av referenten: %(name)s", name=name) if name
                 else titled("Referatet sendt ut av referenten"))
    else:
        title = (titled("Referatet sendt ut av koordinator: %(name)s", name=name) if name
                 else titled("Referatet sendt ut av koordinator"))
    record(ctx.session, "minutes_sent_by", at=now, actor_id=ctx.actor_id, case_id=ctx.case.id,
           role=role, name=name, minutes_id=minutes.id, **title)
# --------------------------------------------------------------------------------------------------


@handler("schedule_next_meeting")
def schedule_next_meeting(ctx: HandlerContext) -> int | None:
    day = ctx.data.get("next_meeting_date")
    if not day or ctx.case.status != "active":
        return None
    return start_meeting(ctx, date.fromisoformat(day))


@handler("start_first_meeting")
def start_first_meeting(ctx: HandlerContext) -> int:
    return start_meeting(ctx, date.fromisoformat(ctx.data["first_meeting_date"]),
                         place=(ctx.data.get("first_meeting_place") or "").strip() or None)


# ----------------------------------------------------------------------------- measures
def reminder_round(ctx: HandlerContext) -> timedelta:
    return timedelta(days=int(get_setting(ctx.session, "measure_reminder_days")))


def measure_start_data(ctx: HandlerContext, measure: Measure) -> dict:
    """Start data of a measure's follow-up: reminders from the morning after the deadline, one a
    round (``measure_reminder_days``), four at most; never starting in the past."""
    member = ctx.session.get(CaseMember, measure.responsible_member_id)
    overdue_at = datetime.combine(measure.deadline + timedelta(days=1), time(8, 0), OSLO)
    overdue_at = max(overdue_at, ctx.clock.now().astimezone(OSLO).replace(microsecond=0))
    return {"measure_id": measure.id, "description": measure.description,
            "responsible_user_id": _acting_user(ctx, member), "deadline": measure.deadline.isoformat(),
            "overdue_at": overdue_at.isoformat(),
            "reminder_cycle": f"R4/{overdue_at.isoformat()}/P{reminder_round(ctx).days}D"}


def _measure(ctx: HandlerContext) -> Measure:
    measure = ctx.session.get(Measure, int(ctx.data["measure_id"]))
    if measure is None or measure.case_id != ctx.case.id:
        raise DomainError("Tiltaket finnes ikke i denne saken.")
    return measure


@handler("remind_measure")
def remind_measure(ctx: HandlerContext) -> bool:
    measure = _measure(ctx)
    if measure.status != "open":
        return False
    now = ctx.clock.now()
    if measure.reminded_at is not None and now - measure.reminded_at < reminder_round(ctx) / 2:
        # a catch-up firing of the cycle (the worker was down, or the cycle started in the past):
        # one reminder per round, never a burst
        return False
    member = ctx.session.get(CaseMember, measure.responsible_member_id)
    send_letter_or_mail(ctx.session, ctx.outbox, ctx.case, member,
                        f"Påminnelse: tiltak med frist {measure.deadline:%d.%m.%Y} ({ctx.case.reference})",
                        f"Tiltaket «{measure.description}» hadde frist {measure.deadline:%d.%m.%Y} og er ikke "
                        "registrert som gjennomført. Logg inn og oppdater tiltaket.", letter=False)
    ops.mark_reminded(ctx.session, measure, at=ctx.clock.now())
    return True


@handler("record_measure")
def record_measure(ctx: HandlerContext) -> dict:
    measure = _measure(ctx)
    outcome = ctx.data["outcome"]
    ops.close_measure(ctx.session, measure, {"done": "done", "not_done": "not_done", "escalate": "escalated"}[outcome],
                      ctx.data.get("comment"), at=ctx.clock.now(), actor_id=ctx.actor_id)
    if outcome != "escalate":
        return {"outcome": outcome, "line_manager_user_id": None}
    member = ctx.session.get(CaseMember, measure.responsible_member_id)
    unit = ctx.session.get(Unit, member.unit_id) if member.unit_id else None
    manager = unit.line_manager_id if unit and unit.line_manager_id else None
    if manager is None:  # no line manager registered: the coordinator raises it (guideline 002)
        appointment = current_coordinator(ctx.session, ctx.case.id)
        manager = appointment.user_id if appointment else None
    user = ctx.session.get(User, manager) if manager else None
    if user is not None and user.email:
        ctx.outbox.send(user.email, f"Sak løftet til linjeleder ({ctx.case.reference})",
                        f"Ansvarsgruppen trenger en avklaring om tiltaket «{measure.description}». Logg inn for å behandle saken.")
    return {"outcome": outcome, "line_manager_user_id": manager}


@handler("record_escalation")
def record_escalation(ctx: HandlerContext) -> bool:
    measure = _measure(ctx)
    ops.close_measure(ctx.session, measure, "done" if ctx.data.get("resolved") == "ja" else "not_done",
                      ctx.data.get("decision"), at=ctx.clock.now(), actor_id=ctx.actor_id)
    return True
