"""Service tasks of processes/closing.bpmn."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp.cases.own_access import guardian_kept_out
from webapp.cases.models import CaseMember
from webapp.cases.roles import users_with_role
from webapp.closing import operations as ops
from webapp.closing.report import report_pdf
from webapp.evaluations import operations as evaluation_ops


def _closure(ctx: HandlerContext):
    return ops.get_closure(ctx.session, ctx.case, ctx.data.get("closure_id"))


@handler("record_closing_confirmation")
def record_closing_confirmation(ctx: HandlerContext) -> dict:
    confirmed = ctx.data.get("confirmed") == "ja"
    on = ctx.data.get("confirmed_on")
    ops.confirm(ctx.session, _closure(ctx), confirmed=confirmed, confirmed_with=ctx.data.get("confirmed_with"),
                confirmed_on=date.fromisoformat(on) if on else None, reason=ctx.data["reason"],
                at=ctx.clock.now(), actor_id=ctx.actor_id)
    return {"confirmed": confirmed, "in_meeting": confirmed and ctx.data.get("closing_meeting") == "ja"}


@handler("keep_group")
def keep_group(ctx: HandlerContext) -> int | None:
    """The group goes on; an active group whose evaluation cycle ended with "close" gets its next
    evaluation scheduled. Returns that evaluation's id."""
    ops.keep_open(ctx.session, _closure(ctx), at=ctx.clock.now(), actor_id=ctx.actor_id)
    if ctx.case.status == "active" and evaluation_ops.next_evaluation(ctx.session, ctx.case.id) is None:
        return evaluation_ops.schedule(ctx.session, ctx.case, at=ctx.clock.now(), today=ctx.clock.today(),
                                       actor_id=ctx.actor_id, schedule_episode=ctx.schedule_episode).id
    return None


@handler("record_final_minutes")
def record_final_minutes(ctx: HandlerContext) -> bool:
    minutes = {key: ctx.data.get(key) for key in ("meeting_date", "present", "summary", "next_steps")}
    ops.record_final_minutes(ctx.session, _closure(ctx), minutes, at=ctx.clock.now(), actor_id=ctx.actor_id)
    return True


@handler("close_case")
def close_case(ctx: HandlerContext) -> str:
    closure, now, today = _closure(ctx), ctx.clock.now(), ctx.clock.today()
    members = ctx.session.scalars(select(CaseMember).where(
        CaseMember.case_id == ctx.case.id, CaseMember.active.is_(True), CaseMember.email.is_not(None))).all()
    # a guardian the young person has not let in is not told about the group, not even its end
    recipients = sorted({m.email for m in members if not guardian_kept_out(ctx.session, ctx.case, m, today)})
    pdf = report_pdf(ctx.session, ctx.case, closure, today)
    ctx.cancel_other_episodes("Ansvarsgruppen er avsluttet", keep=ops.OUTLIVES_GROUP)
    ops.close_case(ctx.session, ctx.case, closure, report_pdf=pdf, at=now, today=today, actor_id=ctx.actor_id)
    person = ctx.case.person.full_name if ctx.case.person else ctx.case.title
    # the setting's values are the system roles: coordinating_unit | system_owner
    for user in users_with_role(ctx.session, closure.reported_to):
        if user.email:
            ctx.outbox.send(user.email, f"Ansvarsgruppe avsluttet ({ctx.case.reference})",
                            f"Ansvarsgruppen for {person} ({ctx.case.reference}) ble avsluttet {today:%d.%m.%Y}. "
                            f"Avslutningen ble startet av {ops.INITIATOR_LABELS[closure.initiated_by]}. "
                            "Avslutningsmeldingen er arkivert med saken.")
    for email in recipients:
        ctx.outbox.send(email, f"Ansvarsgruppen er avsluttet ({ctx.case.reference})",
                        f"Ansvarsgruppen er avsluttet {today:%d.%m.%Y}. Takk for samarbeidet. "
                        "Tilgangen din til saken er avsluttet.", plain=True)  # no content: sent as written
    return today.isoformat()
