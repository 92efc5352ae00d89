"""The plan pages of a case: the current plan, its versions and what changed between two, a
version as PDF, and handing the relay log over to the next stafettholder.

Everything here is content (DESIGN §6): every page needs full access to the case (otherwise a
404 that reveals nothing) and writes an access-log row. The case page's panel
(``plans/_case_panel.html``) shows register-only users that a plan exists and its dates.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.access import login_required
from webapp.auth.models import User
from webapp.cases.access import Access, is_coordinator
from webapp.cases.models import Case, CaseMember
from webapp.cases.operations import DomainError
from webapp.cases.views import case_or_404, required_text
from webapp.engine.runtime import EngineError
from webapp.plans import operations as ops
from webapp.plans.actions import start_plan
from webapp.plans.diff import diff_snapshots
from webapp.plans.documents import label_helpers, plan_pdf, plan_view
from webapp.plans.models import CURRENT_STATUSES, Plan, PlanVersion
from webapp.services import db_session, services

bp = Blueprint("plans", __name__, url_prefix="/saker")

#: the longest reason for a hand-over
REASON_LIMIT = 2000
#: who may hold a relay log: someone from the services (BTI), not the person or the family
HOLDER_ROLES = ("koordinator", "medlem")
#: version numbers in a URL: at most this many digits (a bigger number is no version)
NUMBER_DIGITS = 9


def _plan_or_404(case_id: int) -> tuple[Case, Plan]:
    case, _access = case_or_404(case_id, Access.FULL)
    plan = ops.latest_plan(db_session(), case_id)
    if plan is None:
        abort(404)
    return case, plan


def _log(case_id: int, page: str) -> None:
    services().access_log.record(user_id=g.user.id, case_id=case_id, page=page, at=services().clock.now())


def _may_hand_over(session, plan: Plan) -> bool:
    """The coordinator or the current stafettholder hands a relay log in use over."""
    if plan.kind != "relay_log" or plan.status not in CURRENT_STATUSES:
        return False
    if is_coordinator(session, g.user, plan.case_id):
        return True
    holder = session.get(CaseMember, plan.holder_member_id) if plan.holder_member_id else None
    return holder is not None and holder.active and holder.user_id == g.user.id


def _handover_choices(case: Case, plan: Plan) -> list[CaseMember]:
    """The active members from the services who may take the relay log over (not the holder)."""
    return sorted((m for m in case.members
                   if m.active and m.role in HOLDER_ROLES and m.id != plan.holder_member_id),
                  key=lambda m: (m.name.casefold(), m.id))


def _handover_rows(session, case: Case, plan: Plan) -> list[dict]:
    """The stafettholdere in order: who passed it to whom, when, why and by whom."""
    history = ops.handovers(session, plan)
    if not history:
        return []
    members = {m.id: m.name for m in case.members}
    by_ids = {h.by_id for h in history if h.by_id}
    users = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(by_ids))).all()) if by_ids else {}
    return [{"at": h.at, "from": members.get(h.from_member_id) if h.from_member_id else None,
             "to": members.get(h.to_member_id), "reason": h.reason, "by": users.get(h.by_id)} for h in history]


@bp.get("/<id:case_id>/plan")
@login_required
def show(case_id: int, errors: dict | None = None, values: dict | None = None):
    """The plan as it stands: sections, goals with their measures and progress, who takes part,
    dates and consent; for a relay log its stafettholdere and the hand-over. ``errors`` and
    ``values`` are a failed hand-over's (HTTP 400)."""
    case, _access = case_or_404(case_id, Access.FULL)
    session = db_session()
    _log(case_id, "plan")
    plan = ops.latest_plan(session, case_id)
    context: dict = {}
    if plan is not None:
        snapshot = ops.snapshot(session, plan)
        may_hand_over = _may_hand_over(session, plan)
        approved = ops.latest_approved(session, plan)
        context = {"snapshot": snapshot, "view": plan_view(snapshot), "may_hand_over": may_hand_over,
                   "latest_approved": approved.number if approved else None,
                   "handovers": _handover_rows(session, case, plan) if plan.kind == "relay_log" else [],
                   "choices": _handover_choices(case, plan) if may_hand_over else []}
    return render_template("plans/show.html", case=case, plan=plan, errors=errors or {}, values=values or {},
                           **context, **label_helpers()), (400 if errors else 200)


@bp.post("/<id:case_id>/plan/start")
@login_required
def start(case_id: int):
    """The coordinator starts the work on a plan later than the establishment (the need assessed
    again): the person's consent to the plan is the first step, in the coordinator's inbox."""
    case, _access = case_or_404(case_id, Access.FULL)
    session = db_session()
    if not is_coordinator(session, g.user, case_id):
        abort(404)
    kind = request.form.get("kind") or "individual_plan"
    if kind not in ("individual_plan", "relay_log"):
        kind = "individual_plan"
    actor_id = g.user.id
    session.rollback()  # no read transaction open across the write (SQLite's WAL)
    try:
        start_plan(services(), case_id, kind=kind, actor_id=actor_id)
    except DomainError as exc:
        flash(str(exc), "error")
    except EngineError:
        current_app.logger.exception("starting a plan failed")
        flash(_("Planarbeidet kunne ikke startes nå. Ingenting er lagret; prøv igjen."), "error")
    else:
        flash(_("Arbeidet med planen er startet. Første steg, samtykke til planen, ligger i innboksen din."))
    return redirect(url_for("cases.show", case_id=case_id, _anchor="h-plan"))


@bp.post("/<id:case_id>/plan/stafett")
@login_required
def hand_over(case_id: int):
    """The relay log passes to another member of the group, with a reason."""
    case, _access = case_or_404(case_id, Access.FULL)
    session = db_session()
    plan = ops.current_plan(session, case_id)
    if plan is None or not _may_hand_over(session, plan):
        abort(404)
    errors: dict = {}
    raw_member = (request.form.get("to_member_id") or "").strip()[:20]
    reason = required_text("reason", errors, _("Skriv hvorfor stafetten overføres."), REASON_LIMIT)
    member = next((m for m in _handover_choices(case, plan) if str(m.id) == raw_member), None)
    if member is None:
        errors["to_member_id"] = _("Velg hvem som skal overta stafetten.")
    if not errors:
        plan_id, member_id, member_name, actor_id = plan.id, member.id, member.name, g.user.id
        session.rollback()  # no read transaction open across the write (SQLite's WAL)
        try:
            with services().db.transaction(serialised=True) as s:
                row = s.scalar(select(Plan).where(Plan.id == plan_id).with_for_update()
                               .execution_options(populate_existing=True))
                ops.hand_over(s, row, to_member_id=member_id, reason=reason, at=services().clock.now(),
                              actor_id=actor_id)
        except DomainError as exc:
            errors["to_member_id"] = str(exc)
        else:
            flash(_("Stafetten er overført til %(name)s.", name=member_name))
            return redirect(url_for("plans.show", case_id=case_id))
    return show(case_id, errors=errors, values={"to_member_id": raw_member, "reason": request.form.get("reason", "")})


def _version_rows(session, plan: Plan) -> list:
    """Every version, newest first, without the snapshots and PDFs themselves."""
    return session.execute(
        select(PlanVersion.number, PlanVersion.at, PlanVersion.made_by_name, PlanVersion.source,
               PlanVersion.reason, PlanVersion.approved_at, PlanVersion.archived_pdf.is_not(None).label("archived"))
        .where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.number.desc())).all()


@bp.get("/<id:case_id>/plan/versjoner")
@login_required
def history(case_id: int):
    """Every version with who made it, when and why; a form to compare two."""
    case, plan = _plan_or_404(case_id)
    session = db_session()
    _log(case_id, "plan_history")
    rows = _version_rows(session, plan)
    numbers = [row.number for row in rows]
    return render_template("plans/history.html", case=case, plan=plan, rows=rows, numbers=numbers,
                           fra=numbers[1] if len(numbers) > 1 else (numbers[0] if numbers else None),
                           til=numbers[0] if numbers else None, **label_helpers())


def _number(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > NUMBER_DIGITS or int(text) < 1:
        return None
    return int(text)


@bp.get("/<id:case_id>/plan/endringer")
@login_required
def changes(case_id: int):
    """What changed between version ``fra`` and version ``til`` (in either order; the older one is
    compared with the newer one). Numbers that are missing, malformed or no version: 400."""
    case, plan = _plan_or_404(case_id)
    session = db_session()
    numbers = list(session.scalars(select(PlanVersion.number).where(PlanVersion.plan_id == plan.id)
                                   .order_by(PlanVersion.number.desc())))
    raw_from, raw_to = request.args.get("fra", "")[:40], request.args.get("til", "")[:40]
    first, second = _number(raw_from), _number(raw_to)
    error, old, new = None, None, None
    if first is None or second is None:
        error = _("Velg to versjoner å sammenligne: «fra» og «til» må være versjonsnumre.")
    elif first == second:
        error = _("Velg to forskjellige versjoner å sammenligne.")
    elif first not in numbers or second not in numbers:
        missing = first if first not in numbers else second
        error = _("Versjon %(n)s finnes ikke. Planen har versjon 1 til %(last)s.", n=missing,
                  last=max(numbers, default=0))
    if error:
        _log(case_id, "plan_diff")
        return render_template("plans/diff.html", case=case, plan=plan, error=error, numbers=numbers,
                               fra=raw_from, til=raw_to, diff=None, old=None, new=None, **label_helpers()), 400
    first, second = sorted((first, second))
    old, new = ops.version(session, plan, first), ops.version(session, plan, second)
    _log(case_id, "plan_diff")
    return render_template("plans/diff.html", case=case, plan=plan, error=None, numbers=numbers,
                           fra=str(first), til=str(second), diff=diff_snapshots(old.snapshot or {}, new.snapshot or {}),
                           old=old, new=new, **label_helpers())


@bp.get("/<id:case_id>/plan/versjoner/<int(min=1, max=2147483647):number>.pdf")
@login_required
def version_pdf(case_id: int, number: int):
    """A version as PDF: the archived one if it has one, else rendered now."""
    _case, plan = _plan_or_404(case_id)
    session = db_session()
    try:
        version = ops.version(session, plan, number)
    except DomainError:
        abort(404)
    _log(case_id, "plan_pdf")
    pdf = version.archived_pdf or plan_pdf(version.snapshot or {}, version)
    name = "stafettlogg" if plan.kind == "relay_log" else "individuell-plan"
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}-versjon-{version.number}.pdf"'})
