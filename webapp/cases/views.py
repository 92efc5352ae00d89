from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.models import AccessLogEntry, AuditEvent
from webapp.audit.operations import log_access
from webapp.auth.access import login_required, role_required
from webapp.auth.models import User
from webapp.cases import consent as consent_service
from webapp.cases import registration
from webapp.cases.access import Access, case_access, is_coordinator
from webapp.cases.models import Case, CaseMember, CaseStatusChange, Consent
from webapp.cases.operations import DomainError, active_consent, current_coordinator
from webapp.closing.queries import last_closure, open_closure, reestablished_as
from webapp.deviations.operations import open_count
from webapp.evaluations.models import Evaluation
from webapp.evaluations.operations import next_evaluation
from webapp.engine.models import ProcessInstance
from webapp.meetings.models import Measure, Meeting, Minutes
from webapp.outbox.models import OutboxMessage
from webapp.engine.runtime import EngineError
from webapp.services import db_session, services
from webapp.taskforms.options import option_source
from webapp.taskforms.schema import fields_of
from webapp.taskforms.submission import read_submission
from webapp.tasks.queries import case_tasks
from webapp.transitions.operations import next_transition

bp = Blueprint("cases", __name__, url_prefix="/saker")


@functools.lru_cache(maxsize=8)
def _read_form(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _form(name: str) -> dict:
    """A form that is not a process step (read once; forms ship with the code)."""
    return _read_form(str(Path(current_app.config["FORMS_DIR"]) / name))


def case_or_404(case_id: int, needed: Access = Access.REGISTER) -> tuple[Case, Access]:
    session = db_session()
    case = session.get(Case, case_id)
    access = case_access(session, g.user, case_id) if case is not None else Access.NONE
    if case is None or access < needed:
        abort(404)
    return case, access


def required_text(name: str, errors: dict, message: str, limit: int) -> str:
    """A required text field of a case-page form (not a process step): the trimmed value; on
    failure ``message`` (or "too long") goes into ``errors`` under ``name``."""
    value = (request.form.get(name) or "").strip()
    if not value:
        errors[name] = message
    elif len(value) > limit:
        errors[name] = _("Teksten er for lang (maks %(n)s tegn).", n=limit)
    return value


def _is_coordinator(case_id: int) -> bool:
    return is_coordinator(db_session(), g.user, case_id)


@bp.route("/")
@login_required
def index():
    session = db_session()
    case_ids = set(session.scalars(select(CaseMember.case_id).where(
        CaseMember.user_id == g.user.id, CaseMember.active.is_(True))))
    cases = [c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.created_at.desc()))
             if case_access(session, g.user, c.id) > Access.NONE]
    return render_template("cases/index.html", cases=cases)


@bp.route("/ny", methods=["GET", "POST"])
@role_required("staff")
def new():
    schema = _form("register_wish.json")
    session = db_session()
    today = services().clock.today()
    options = option_source(session, None, today)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        submission = read_submission(schema, request.form, today=today, options=options)
        if submission.ok:
            try:
                _case_id, reference = registration.register(services(), submission.data, actor_id=g.user.id)
            except (EngineError, DomainError):
                current_app.logger.exception("registration failed")
                errors = {"": _("Ønsket kunne ikke registreres nå. Ingenting er lagret; prøv igjen.")}
                return render_template("cases/new.html", schema=schema, fields=fields_of(schema, options),
                                       values=submission.values or {}, errors=errors), 503
            flash(_("Ønsket er registrert (%(ref)s) og sendt til koordinerende enhet.", ref=reference))
            return redirect(url_for("tasks.inbox"))
        values, errors, status = submission.values, submission.errors, 400
    return render_template("cases/new.html", schema=schema, fields=fields_of(schema, options),
                           values=values, errors=errors), status


@bp.route("/<id:case_id>")
@login_required
def show(case_id: int, failed: str | None = None, errors: dict | None = None, values: dict | None = None):
    """The case page. ``failed`` names the case-page form (withdraw, closing, reestablish) whose
    ``errors`` and kept ``values`` are shown (HTTP 400)."""
    case, access = case_or_404(case_id)
    session = db_session()
    log_access(services().db, user_id=g.user.id, case_id=case_id,
               page="case" if access == Access.FULL else "case_register", at=services().clock.now())
    members = [m for m in case.members if m.active]
    appointment = current_coordinator(session, case_id)
    coordinator = session.get(User, appointment.user_id) if appointment else None
    consents = session.scalars(select(Consent).where(Consent.case_id == case_id).order_by(Consent.id.desc())).all()
    instances = session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                                .order_by(ProcessInstance.created_at.desc())).all()
    statuses = session.scalars(select(CaseStatusChange).where(CaseStatusChange.case_id == case_id)
                               .order_by(CaseStatusChange.at.desc(), CaseStatusChange.id.desc())).all()
    meetings = session.scalars(select(Meeting).where(Meeting.case_id == case_id).order_by(Meeting.number.desc())).all()
    with_minutes = set(session.scalars(select(Minutes.meeting_id).join(Meeting, Meeting.id == Minutes.meeting_id)
                                       .where(Meeting.case_id == case_id)))
    measures, letters = [], []
    events = []
    if access == Access.FULL:
        measures = session.execute(select(Measure, CaseMember).join(CaseMember, CaseMember.id == Measure.responsible_member_id)
                                   .where(Measure.case_id == case_id).order_by(Measure.status != "open", Measure.deadline)).all()
        if _is_coordinator(case_id):
            letters = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                                  OutboxMessage.channel == "letter")
                                      .order_by(OutboxMessage.id.desc())).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                 .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(100)).all()
    closure = open_closure(session, case_id) or last_closure(session, case_id)
    previous = session.get(Case, case.previous_case_id) if case.previous_case_id else None
    evaluations = session.scalars(select(Evaluation).where(Evaluation.case_id == case_id)
                                  .order_by(Evaluation.due_on.desc())).all() if access == Access.FULL else []
    return render_template(
        "cases/show.html", case=case, access=access, full=access == Access.FULL, members=members,
        closure=closure, previous=previous, reestablished=reestablished_as(session, case_id),
        previous_visible=previous is not None and case_access(session, g.user, previous.id) > Access.NONE,
        evaluations=evaluations, next_evaluation=next_evaluation(session, case_id),
        next_transition=next_transition(session, case_id, services().clock.today()),
        open_deviations=open_count(session, case_id) if access == Access.FULL else 0,
        appointment=appointment, coordinator=coordinator, consent=active_consent(session, case_id),
        consents=consents, tasks=case_tasks(session, case_id), instances=instances, statuses=statuses,
        events=events, is_coordinator=_is_coordinator(case_id), meetings=meetings, with_minutes=with_minutes,
        measures=measures, letters=letters, today=services().clock.today(),
        failed=failed, errors=errors or {}, values=values or {},
    ), (400 if errors else 200)


@bp.route("/<id:case_id>/samtykke/trekk-tilbake", methods=["POST"])
@login_required
def withdraw_consent(case_id: int):
    case, _access = case_or_404(case_id, Access.FULL)
    if not _is_coordinator(case_id):
        abort(404)
    errors: dict = {}
    stated_by = required_text("stated_by", errors, _("Skriv hvem som trakk samtykket tilbake."), 200)
    reason = required_text("reason", errors, _("Skriv hva personen sa, eller hvorfor."), 2000)
    if not errors:
        try:
            consent_service.withdraw(services(), case_id, stated_by=stated_by, reason=reason,
                                     actor_id=g.user.id)
        except DomainError:
            errors["stated_by"] = _("Saken har ikke et gyldig samtykke som kan trekkes tilbake.")
    if errors:
        return show(case_id, failed="withdraw", errors=errors, values={"stated_by": stated_by, "reason": reason})
    flash(_("Samtykket er registrert som trukket tilbake. Medlemmenes tilgang er stengt."))
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/<id:case_id>/innsyn")
@login_required
def access_log(case_id: int):
    case, _access = case_or_404(case_id, Access.FULL)
    if not _is_coordinator(case_id):
        abort(404)
    session = db_session()
    log_access(services().db, user_id=g.user.id, case_id=case_id, page="access_log", at=services().clock.now())
    rows = session.execute(select(AccessLogEntry, User).join(User, User.id == AccessLogEntry.user_id)
                           .where(AccessLogEntry.case_id == case_id)
                           .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc()).limit(500)).all()
    return render_template("cases/access_log.html", case=case, rows=rows)
