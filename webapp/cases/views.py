from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from webapp.audit.models import AuditEvent
from webapp.auth.access import login_required, role_required
from webapp.auth.models import User
from webapp.cases import consent as consent_service
from webapp.cases import operations as ops
from webapp.audit import log_reading
from webapp.cases import register_data, registration, wishes
from webapp.meetings.models import MeetingRequest
from webapp.portal import operations as portal_ops
from webapp.portal.pages import person_side_view
from webapp.cases.panels import wish_view
from webapp.cases.access import Access, access_levels, case_access, is_coordinator, may_see
from webapp.cases.models import Case, CaseMember, CaseStatusChange, Consent
from webapp.cases.operations import DomainError, current_coordinator
from webapp.closing.queries import reestablished_as, shown_closure
from webapp.deviations.operations import open_count
from webapp.evaluations.models import Evaluation
from webapp.evaluations.operations import earliest_scheduled, next_evaluation
from webapp.engine.models import ProcessInstance
from webapp.meetings.models import Measure, Meeting, Minutes
from webapp.plans import operations as plan_ops
from webapp.plans.models import CURRENT_STATUSES
from webapp.outbox.models import OutboxMessage
from webapp.engine.runtime import EngineError
from webapp.services import db_session, services
from webapp.taskforms.options import option_source
from webapp.settings.operations import get_setting
from webapp.taskforms.schema import fields_of, posted_values, validate
from webapp.taskforms.submission import read_submission
from webapp.tasks.queries import actionable_ids, case_tasks
from webapp.transitions.operations import next_transition
from webapp.register.meeting_due import meeting_due_on

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
    register_data.prime(session, {case_id: access})  # the page's templates ask for it again
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
    """The cases the user is an active member of and may see (bounded by their memberships)."""
    session = db_session()
    memberships = select(CaseMember.case_id).where(CaseMember.user_id == g.user.id, CaseMember.active.is_(True))
    cases = session.scalars(select(Case).where(Case.id.in_(memberships), may_see(g.user, services().clock.today()))
                            .order_by(Case.created_at.desc(), Case.id.desc())).all()
    return render_template("cases/index.html", cases=cases)


def _appoints() -> bool:
    """Whether a coordinating unit receives wishes and appoints (guideline 002), or the service
    that received the wish does (guideline 001)."""
    return bool(get_setting(db_session(), "coordinating_unit_appoints"))


@bp.route("/ny", methods=["GET", "POST"])
@role_required("staff")
def new():
    """Register a wish. A national identity number that already has an open case asks for a
    confirmation first (the input is kept); the confirmation names the number it was given for."""
    schema = _form("register_wish.json")
    session = db_session()
    today = services().clock.today()
    options = option_source(session, None, today)
    values, errors, status, duplicates = {}, {}, 200, []

    def page(code: int):
        return render_template("cases/new.html", schema=schema, fields=fields_of(schema, options),
                               values=values, errors=errors, duplicates=duplicates,
                               appoints=_appoints()), code

    if request.method == "POST":
        submission = read_submission(schema, request.form, today=today, options=options)
        if not submission.ok:
            values, errors = submission.values, submission.errors
            return page(400)
        national_id = submission.data.get("national_id")
        duplicates = ops.open_cases_for(session, national_id)
        if duplicates and request.form.get("confirm_duplicate") != national_id:
            values = posted_values(schema, request.form, options=options)
            return page(200)
        actor_id = g.user.id
        session.rollback()  # no read transaction open across the write (SQLite's WAL)
        try:
            case_id, reference = registration.register(services(), submission.data, actor_id=actor_id)
        except (EngineError, DomainError):
            current_app.logger.exception("registration failed")
            values = posted_values(schema, request.form, options=options)
            errors = {"": _("Ønsket kunne ikke registreres nå. Ingenting er lagret; prøv igjen.")}
            return page(503)
        if _appoints():
            flash(_("Ønsket er registrert (%(ref)s) og sendt til koordinerende enhet.", ref=reference))
        else:
            flash(_("Ønsket er registrert (%(ref)s). Du oppnevner koordinator; oppgaven ligger i innboksen din.",
                    ref=reference))
        return redirect(url_for("cases.my_wishes", _anchor=f"wish-{case_id}"))
    return page(status)


@bp.route("/mine-onsker")
@role_required("staff")
def my_wishes():
    """The wishes the user registered, with their progress and the wish as written, until the group
    is established; after that the case's normal access applies."""
    session = db_session()
    registered = wishes.registered_by(session, g.user.id)
    levels = access_levels(session, g.user, [case.id for case, _progress in registered])
    rows = [{"case": case, "progress": progress, "visible": levels[case.id] > Access.NONE}
            for case, progress in registered]
    return render_template("cases/my_wishes.html", rows=rows)


@bp.route("/<id:case_id>/onske/behandle", methods=["POST"])
@login_required
def decide_wish(case_id: int):
    """Decline a wish (with a reason) or mark it as a duplicate of another case."""
    case, _access = case_or_404(case_id)
    session = db_session()
    if wishes.appoint_task(session, g.user, case_id) is None:
        abort(404)
    errors: dict = {}
    outcome = request.form.get("outcome") or ""
    reason = (request.form.get("reason") or "").strip()
    duplicate_of = (request.form.get("duplicate_of") or "").strip()
    if outcome not in ("declined", "duplicate"):
        errors["outcome"] = _("Velg om ønsket avslås eller er et duplikat.")
    if outcome == "declined" and not reason:
        errors["reason"] = _("Skriv hvorfor ønsket avslås.")
    if len(reason) > 2000:
        errors["reason"] = _("Teksten er for lang (maks %(n)s tegn).", n=2000)
    if outcome == "duplicate" and not duplicate_of:
        errors["duplicate_of"] = _("Skriv saksnummeret til saken dette er et duplikat av.")
    elif len(duplicate_of) > 40:
        errors["duplicate_of"] = _("Teksten er for lang (maks %(n)s tegn).", n=40)
    kept = {"outcome": outcome, "reason": reason, "duplicate_of": duplicate_of}
    if not errors:
        try:
            wishes.decline(services(), case_id, g.user, reason=reason,
                           duplicate_of_reference=duplicate_of if outcome == "duplicate" else None)
        except DomainError as exc:
            session.rollback()
            if wishes.appoint_task(session, g.user, case_id) is None:  # decided meanwhile by someone else
                flash(str(exc))
                return redirect(url_for("cases.show", case_id=case_id))
            errors["duplicate_of" if outcome == "duplicate" else "reason"] = str(exc)
    if errors:
        session.rollback()
        return show(case_id, failed="decide", errors=errors, values=kept)
    flash(_("Ønsket er merket som duplikat.") if outcome == "duplicate" else _("Ønsket er avslått."))
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/<id:case_id>")
@login_required
def show(case_id: int, failed: str | None = None, errors: dict | None = None, values: dict | None = None):
    """The case page. ``failed`` names the case-page form (withdraw, closing, reestablish) whose
    ``errors`` and kept ``values`` are shown (HTTP 400)."""
    case, access = case_or_404(case_id)
    session = db_session()
    services().access_log.record(user_id=g.user.id, case_id=case_id,
               page="case" if access == Access.FULL else "case_register", at=services().clock.now())
    members = [m for m in case.members if m.active]
    coordinator_here = _is_coordinator(case_id)
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
        if coordinator_here:
            letters = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                                  OutboxMessage.channel == "letter")
                                      .order_by(OutboxMessage.id.desc())).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                 .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(100)).all()
    closure = shown_closure(session, case_id)
    previous = session.get(Case, case.previous_case_id) if case.previous_case_id else None
    evaluations = session.scalars(select(Evaluation).where(Evaluation.case_id == case_id)
                                  .order_by(Evaluation.due_on.desc())).all() if access == Access.FULL else []
    plan = plan_ops.latest_plan(session, case_id)
    can_start_plan = (coordinator_here and access == Access.FULL and case.status in ("establishing", "active")
                      and (plan is None or plan.status not in CURRENT_STATUSES))
    tasks = case_tasks(session, case_id)
    # only steps the user can act on are links (others' steps would answer 404)
    actionable = actionable_ids(session, g.user, case_id)
    can_decide = case.status == "requested" and wishes.appoint_task(session, g.user, case_id) is not None
    return render_template(
        "cases/show.html", case=case, access=access, full=access == Access.FULL, members=members,
        closure=closure, previous=previous, reestablished=reestablished_as(session, case_id),
        previous_visible=previous is not None and case_access(session, g.user, previous.id) > Access.NONE,
        evaluations=evaluations,
        next_evaluation=earliest_scheduled(evaluations) if access == Access.FULL else next_evaluation(session, case_id),
        next_transition=next_transition(session, case_id, services().clock.today()),
        open_deviations=open_count(session, case_id) if access == Access.FULL else 0,
        appointment=appointment, coordinator=coordinator,
        consent=next((c for c in consents if c.in_force), None),  # newest first, as active_consent
        consents=consents, tasks=tasks, actionable=actionable, instances=instances, statuses=statuses,
        events=events, is_coordinator=coordinator_here, meetings=meetings, with_minutes=with_minutes,
        measures=measures, letters=letters, today=services().clock.today(),
        meeting_due_on=meeting_due_on(session, case_id, today=services().clock.today()),  # admin/settings work
        failed=failed, errors=errors or {}, values=values or {},
        wish=wish_view(session, case) if coordinator_here and access == Access.FULL else None,
        can_decide=can_decide, appoints=_appoints(), plan=plan, can_start_plan=can_start_plan,
        person_side=person_side_view(session, case_id, meetings) if coordinator_here and access == Access.FULL
        else {"replies": [], "requests": []},
        relay_log_allowed=can_start_plan and plan_ops.relay_log_allowed(session, case, services().clock.today()),
        possible_duplicates=ops.open_cases_for(session, case.person.national_id if case.person else None,
                                               exclude_case_id=case.id) if can_decide else [],
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
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="access_log", at=services().clock.now())
    services().access_log.flush()  # the batched reads of the last moment, this one included
    session.commit()  # a fresh snapshot (SQLite) that sees them
    before = log_reading.parse_cursor(request.args.get("before", ""))
    rows, older = log_reading.log_page(session, case_id, before)
    return render_template("cases/access_log.html", case=case, rows=rows, older=older, paged=before is not None)


@bp.post("/<id:case_id>/moteonsker/<id:request_id>")
@login_required
def meeting_request_handled(case_id: int, request_id: int):
    """The coordinator marks the person's request for a meeting as seen to."""
    case_or_404(case_id, Access.FULL)
    if not _is_coordinator(case_id):
        abort(404)
    with services().db.transaction() as s:
        found = s.get(MeetingRequest, request_id)
        if found is None or found.case_id != case_id:
            abort(404)
        if found.handled_at is None:
            portal_ops.handle_meeting_request(s, found, at=services().clock.now(), actor_id=g.user.id)
    flash(_("Ønsket om møte er markert som fulgt opp."))
    return redirect(url_for("cases.show", case_id=case_id))


#: The person's register data the coordinator may correct after establishment.
PERSON_FORM = {
    "type": "object", "required": ["full_name", "birth_date"],
    "x-order": ["full_name", "birth_date", "national_id", "phone", "email", "address"],
    "properties": {
        "full_name": {"type": "string", "title": _l("Personens navn"), "minLength": 2, "maxLength": 200},
        "birth_date": {"type": "string", "format": "date", "title": _l("Fødselsdato"), "x-not-after": "today"},
        "national_id": {"type": "string", "title": _l("Nytt fødselsnummer"), "pattern": "^[0-9]{11}$",
                        "x-help": _l("11 siffer. La feltet stå tomt for å beholde det lagrede nummeret.")},
        "phone": {"type": "string", "title": _l("Telefon"), "maxLength": 40},
        "email": {"type": "string", "format": "email", "title": _l("E-post"), "maxLength": 254},
        "address": {"type": "string", "title": _l("Adresse"), "maxLength": 300},
    },
}

#: One member's correctable details (posted as m-<member id>-<field>).
MEMBER_FORM = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "phone": {"type": "string", "maxLength": 40},
        "role": {"type": "string", "oneOf": [{"const": r} for r in ops.CORRECTABLE_ROLES]},
    },
}


def _correctable_members(case: Case) -> list[CaseMember]:
    return [m for m in case.members if m.active and m.role in ops.CORRECTABLE_ROLES]


@bp.route("/<id:case_id>/rett", methods=["GET", "POST"])
@login_required
def correct(case_id: int):
    """The coordinator corrects the person's register data and the members' contact details and
    roles after establishment (each change audited). Who is in the group changes only through a
    composition review (transitions), which keeps the consent rule."""
    case, _access = case_or_404(case_id, Access.FULL)
    if not _is_coordinator(case_id) or case.status not in ("awaiting_consent", "establishing", "active"):
        abort(404)
    person = case.person
    if person is None:
        abort(404)
    session = db_session()
    today = services().clock.today()
    members = _correctable_members(case)
    errors: dict = {}
    if request.method == "GET":
        values = {"full_name": person.full_name, "birth_date": person.birth_date.isoformat(),
                  "phone": person.phone or "", "email": person.email or "", "address": person.address or ""}
        member_values = {m.id: {"email": m.email or "", "phone": m.phone or "", "role": m.role} for m in members}
        return render_template("cases/correct.html", case=case, person=person, members=members,
                               fields=fields_of(PERSON_FORM), values=values, member_values=member_values,
                               errors=errors)
    submission = read_submission(PERSON_FORM, request.form, today=today)
    errors.update(submission.errors)
    member_values, member_data = {}, {}
    for m in members:
        raw = {k: (request.form.get(f"m-{m.id}-{k}") or "").strip() for k in ("email", "phone", "role")}
        member_values[m.id] = raw
        for key, message in validate(MEMBER_FORM, {k: v for k, v in raw.items() if v}).items():
            errors[f"m-{m.id}-{key}"] = message
        member_data[m.id] = raw
    if not errors:
        data = submission.data
        changes = {name: data.get(name) or None for name in ops.PERSON_FIELDS}
        changes["birth_date"] = date.fromisoformat(data["birth_date"])
        now = services().clock.now()
        changed = []
        try:
            with services().db.transaction() as s:
                case_row = s.get(Case, case_id)
                changed += ops.correct_person(s, case_row, changes, at=now, actor_id=g.user.id)
                for member_id, raw in member_data.items():
                    member = s.get(CaseMember, member_id)
                    changed += ops.correct_member(s, member, email=raw["email"] or None, phone=raw["phone"] or None,
                                                  role=raw["role"] or None, at=now, actor_id=g.user.id)
        except DomainError as exc:
            errors[""] = str(exc)
        else:
            session.rollback()
            flash(_("Opplysningene er rettet.") if changed else _("Ingen endringer å lagre."))
            return redirect(url_for("cases.show", case_id=case_id))
    values = posted_values(PERSON_FORM, request.form)
    return render_template("cases/correct.html", case=case, person=person, members=members,
                           fields=fields_of(PERSON_FORM), values=values, member_values=member_values,
                           errors=errors), 400
