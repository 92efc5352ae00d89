"""The person's and guardians' own pages (``/min-side``): their group, meetings with agenda and
approved minutes, their plan, deadlines, consent, taking part before a meeting, and who has
looked at their case. Access comes from ``cases.own_access`` (age rules, consent), never from the
staff rules; every read is access-logged; a case they do not see is a 404 that reveals nothing."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import library_texts
from webapp.audit import log_reading
from webapp.auth.access import login_required
from webapp.auth.models import User
from webapp.cases import consent as consent_service
from webapp.cases.models import ENDED_STATUSES, Case, CaseMember, Consent
from webapp.cases.operations import DomainError, active_consent
from webapp.cases.own_access import Standing, person_side, rules, standing, standings
from webapp.cases.roles import PERSON_LANE
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.engine.runtime import Conflict, NotFound, Refused, StepFailed
from webapp.meetings import operations as meeting_ops
from webapp.meetings.documents import minutes_pdf as render_minutes_pdf
from webapp.meetings.minutes import minutes_doc
from webapp.meetings.models import EXCLUDED_MATTERS, Meeting, Minutes
from webapp.plans import operations as plan_ops
from webapp.plans.documents import label_helpers, plan_view
from webapp.portal import forms, operations as ops, pages
from webapp.services import db_session, services
from webapp.taskforms.schema import fields_of
from webapp.taskforms.submission import read_submission

bp = Blueprint("portal", __name__, url_prefix="/min-side")

#: the login's assurance level when it came without one (a local or demo password login)
LOCAL_LOGIN = "local"


def _citizen():
    if not g.user.is_citizen:
        abort(404)
    return g.user


def _standing(case_id: int, *, content: bool = True) -> Standing:
    """The citizen's standing in the case, or a 404; ``content``: the page shows what the group
    wrote, which needs the written consent in force (as for members)."""
    found = standing(db_session(), _citizen(), case_id, services().clock.today())
    if found is None or (content and active_consent(db_session(), case_id) is None):
        abort(404)
    return found


def _log(case_id: int, page: str) -> None:
    services().access_log.record(user_id=g.user.id, case_id=case_id, page=page, at=services().clock.now())


@bp.get("")
@login_required
def home():
    user = _citizen()
    mine = standings(db_session(), user, services().clock.today())
    seen = [s for s in mine if s.sees]
    if len(seen) == 1 and len(mine) == 1:
        return redirect(url_for("portal.case", case_id=seen[0].case.id))
    return render_template("portal/home.html", standings=mine, ended=ENDED_STATUSES)


@bp.get("/saker/<id:case_id>")
@login_required
def case(case_id: int):
    mine = _standing(case_id, content=False)
    s = db_session()
    _log(case_id, "portal_case")
    overview = pages.overview(s, mine, g.user, services().clock.today())
    return render_template("portal/case.html", me=mine, **overview)


@bp.get("/saker/<id:case_id>/innsyn")
@login_required
def access_log(case_id: int):
    mine = _standing(case_id, content=False)
    _log(case_id, "portal_log")
    services().access_log.flush()  # the batched reads of the last moment, this one included
    s = db_session()
    s.commit()  # a fresh snapshot (SQLite) that sees them
    before = log_reading.parse_cursor(request.args.get("etter", ""))
    rows, older = log_reading.log_page(s, case_id, before)
    roles = pages.roles_in_case(s, case_id, {user.id for _entry, user in rows})
    return render_template("portal/access_log.html", me=mine, rows=rows, roles=roles, older=older,
                           paged=before is not None)


# --- consent -------------------------------------------------------------------------------

@bp.route("/saker/<id:case_id>/samtykke", methods=["GET", "POST"])
@login_required
def consent(case_id: int):
    mine = _standing(case_id, content=False)
    s = db_session()
    in_force = active_consent(s, case_id)
    step = pages.consent_step(s, case_id) if in_force is None else None
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        if step is None or not mine.consents:
            flash(_("Samtykket kan ikke gis her nå."), "error")
            return redirect(url_for("portal.consent", case_id=case_id))
        today = services().clock.today()
        submission = read_submission(forms.CONSENT_FORM, request.form, today=today)
        if submission.ok:
            data = {"consent_decision": "gitt", **{k: True for k in forms.STATEMENTS},
                    "signed_by": g.user.full_name, "signed_how": "digital", "signed_on": today.isoformat(),
                    "consent_user_id": g.user.id, "consent_acr": session.get("acr") or LOCAL_LOGIN}
            outcome = _complete(step, data, page="portal_consent")
            if outcome is None:
                flash(_("Takk. Samtykket er gitt, og koordinatoren setter sammen gruppen."))
                return redirect(url_for("portal.case", case_id=case_id))
            return outcome
        values, errors, status = submission.values, submission.errors, 400
    _log(case_id, "portal_consent")
    history = list(s.scalars(select(Consent).where(Consent.case_id == case_id).order_by(Consent.id.desc())))
    givers = {c.given_by_user_id for c in history if c.given_by_user_id}
    names = dict(s.execute(select(User.id, User.full_name).where(User.id.in_(givers))).all()) if givers else {}
    return render_template("portal/consent.html", me=mine, in_force=in_force, step=step, history=history,
                           names=names, fields=fields_of(forms.CONSENT_FORM), values=values, errors=errors,
                           own_age=rules(s)[0]), status


@bp.route("/saker/<id:case_id>/samtykke/trekk", methods=["GET", "POST"])
@login_required
def withdraw(case_id: int):
    mine = _standing(case_id, content=False)
    if not mine.consents or active_consent(db_session(), case_id) is None:
        abort(404)

    def act(data):
        consent_service.withdraw(services(), case_id, stated_by=g.user.full_name, reason=data["reason"],
                                 actor_id=g.user.id)
        flash(_("Samtykket er trukket tilbake. De andre i gruppen ser ikke lenger saken, og koordinatoren "
                "avslutter gruppen."))

    return _form_page(mine, forms.WITHDRAW_FORM, act, title=_("Trekk samtykket tilbake"),
                      intro=_("Du kan trekke samtykket når du vil. Da stopper arbeidet i ansvarsgruppen, og "
                              "de andre i gruppen mister tilgangen med en gang."),
                      submit=_("Trekk samtykket"), done=url_for("portal.consent", case_id=case_id))


# --- meetings ------------------------------------------------------------------------------

def _meeting(mine: Standing, meeting_id: int) -> Meeting:
    meeting = db_session().get(Meeting, meeting_id)
    if meeting is None or meeting.case_id != mine.case.id or meeting.status == "cancelled":
        abort(404)
    return meeting


def _approved_minutes(meeting: Meeting) -> Minutes | None:
    """The meeting's minutes once approved (the person reads no draft)."""
    return db_session().scalar(select(Minutes).where(Minutes.meeting_id == meeting.id, Minutes.status == "approved"))


@bp.get("/saker/<id:case_id>/moter/<id:meeting_id>")
@login_required
def meeting(case_id: int, meeting_id: int):
    mine = _standing(case_id)
    meeting = _meeting(mine, meeting_id)
    s = db_session()
    _log(case_id, "portal_meeting")
    minutes = _approved_minutes(meeting)
    reply = ops.latest_replies(s, meeting.id).get(mine.member.id)
    return render_template("portal/meeting.html", me=mine, meeting=meeting, reply=reply,
                           doc=minutes_doc(s, minutes) if minutes is not None else None,
                           my_matters=[m for m in meeting.matters if m.submitted_by_id == g.user.id],
                           excluded=EXCLUDED_MATTERS)


@bp.get("/saker/<id:case_id>/moter/<id:meeting_id>/referat.pdf")
@login_required
def minutes_pdf(case_id: int, meeting_id: int):
    mine = _standing(case_id)
    meeting = _meeting(mine, meeting_id)
    minutes = _approved_minutes(meeting)
    if minutes is None:
        abort(404)
    _log(case_id, "portal_minutes")
    pdf = minutes.archived_pdf or render_minutes_pdf(minutes_doc(db_session(), minutes))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="referat-{meeting.number}.pdf"'})


@bp.route("/saker/<id:case_id>/moter/<id:meeting_id>/meld-sak", methods=["GET", "POST"])
@login_required
def submit_matter(case_id: int, meeting_id: int):
    mine = _standing(case_id)
    meeting = _meeting(mine, meeting_id)
    back = url_for("portal.meeting", case_id=case_id, meeting_id=meeting_id)
    if meeting.status != "planned":
        flash(_("Sakslisten er sendt ut; nye saker tas med til neste møte."), "error")
        return redirect(back)

    def act(data):
        kind = None if data["screening"] == "none" else data["screening"]
        with services().db.transaction(serialised=True) as s:
            meeting_ops.submit_matter(s, s.get(Meeting, meeting_id), title=data["title"],
                                      description=data.get("description"), excluded_kind=kind,
                                      submitted_by_name=g.user.full_name, submitted_by_id=g.user.id,
                                      at=services().clock.now())
        if kind:
            flash(_("Saken er registrert, men ansvarsgruppen kan ikke behandle den: %(what)s. %(where)s",
                    what=EXCLUDED_MATTERS[kind][0], where=EXCLUDED_MATTERS[kind][1]))
        else:
            flash(_("Takk. Saken er meldt inn, og koordinatoren tar den med når sakslisten settes opp."))

    return _form_page(mine, forms.MATTER_FORM, act, title=_("Meld inn en sak til møtet"),
                      intro=_("Skriv hva du vil snakke om i møtet. Koordinatoren setter opp sakslisten sammen "
                              "med deg."), submit=_("Meld inn saken"), done=back)


@bp.route("/saker/<id:case_id>/moter/<id:meeting_id>/svar", methods=["GET", "POST"])
@login_required
def reply(case_id: int, meeting_id: int):
    mine = _standing(case_id)
    meeting = _meeting(mine, meeting_id)
    back = url_for("portal.meeting", case_id=case_id, meeting_id=meeting_id)
    if meeting.status not in ("planned", "invited"):
        abort(404)

    def act(data):
        with services().db.transaction() as s:
            ops.reply_to_meeting(s, s.get(Meeting, meeting_id), s.get(CaseMember, mine.member.id),
                                 attends=data["attends"] == "ja", note=data.get("note"),
                                 at=services().clock.now(), actor_id=g.user.id)
        flash(_("Takk for svaret. Koordinatoren ser det."))

    return _form_page(mine, forms.REPLY_FORM, act, title=_("Kommer du på møtet?"), intro=None,
                      submit=_("Send svaret"), done=back)


@bp.route("/saker/<id:case_id>/be-om-mote", methods=["GET", "POST"])
@login_required
def request_meeting(case_id: int):
    mine = _standing(case_id)

    def act(data):
        with services().db.transaction() as s:
            case = s.get(Case, case_id)
            ops.request_meeting(s, case, s.get(CaseMember, mine.member.id), reason=data["reason"],
                                clock=services().clock, actor_id=g.user.id)
        flash(_("Takk. Koordinatoren har fått beskjed om at du ønsker et møte."))

    return _form_page(mine, forms.REQUEST_FORM, act, title=_("Be om et møte"),
                      intro=_("Du kan be om et møte i ansvarsgruppen når du trenger det."),
                      submit=_("Send ønsket"), done=url_for("portal.case", case_id=case_id))


@bp.route("/saker/<id:case_id>/foresatte", methods=["GET", "POST"])
@login_required
def guardians(case_id: int):
    mine = _standing(case_id, content=False)
    if not mine.decides_for_guardians:
        abort(404)

    def act(data):
        with services().db.transaction() as s:
            ops.set_guardians_may_see(s, s.get(Case, case_id), data["guardians_may_see"] == "ja",
                                      at=services().clock.now(), actor_id=g.user.id)
        flash(_("Svaret ditt er lagret."))

    current = mine.case.guardians_may_see
    return _form_page(mine, forms.GUARDIANS_FORM, act, title=_("Foresattes innsyn"),
                      intro=_("Du er over %(age)s år. Da bestemmer du selv om foresatte kan se saken din her.",
                              age=rules(db_session())[1]),
                      submit=_("Lagre"), done=url_for("portal.case", case_id=case_id),
                      initial={} if current is None else {"guardians_may_see": "ja" if current else "nei"})


# --- the plan ------------------------------------------------------------------------------

@bp.get("/saker/<id:case_id>/plan")
@login_required
def plan(case_id: int):
    mine = _standing(case_id)
    s = db_session()
    current = plan_ops.latest_plan(s, case_id)
    approved = plan_ops.latest_approved(s, current) if current is not None else None
    if approved is None:
        abort(404)
    _log(case_id, "portal_plan")
    return render_template("portal/plan.html", me=mine, plan=current, version=approved,
                           view=plan_view(approved.snapshot), snapshot=approved.snapshot, **label_helpers())


# --- the person's own step before a meeting ------------------------------------------------

@bp.route("/saker/<id:case_id>/onsker/<id:instance_id>/<task_id>", methods=["GET", "POST"])
@login_required
def needs(case_id: int, instance_id: int, task_id: str):
    mine = _standing(case_id)
    s = db_session()
    step = s.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.instance_id == instance_id,
                                           OpenTask.task_id == task_id, OpenTask.lane == PERSON_LANE))
    if step is None or g.user.id not in person_side(s, case_id, services().clock.today()):
        abort(404)
    instance = s.get(ProcessInstance, instance_id)
    view = services().engine.task_view(s, instance, step.task_spec, task_id)
    schema = library_texts.schema(view.schema)
    values, errors, status = {k: v for k, v in view.data.items() if k in schema.get("properties", {})}, {}, 200
    if request.method == "POST":
        submission = read_submission(schema, request.form, today=services().clock.today())
        if submission.ok:
            outcome = _complete(step, submission.data, page="portal_step")
            if outcome is None:
                flash(_("Takk. Koordinatoren og gruppen får se det du skrev før møtet."))
                return redirect(url_for("portal.case", case_id=case_id))
            return outcome
        values, errors, status = submission.values, submission.errors, 400
    else:
        _log(case_id, "portal_step")
    meeting = s.get(Meeting, view.data.get("meeting_id")) if view.data.get("meeting_id") else None
    return render_template("portal/needs.html", me=mine, meeting=meeting, fields=fields_of(schema),
                           values=values, errors=errors), status


# --- shared ----------------------------------------------------------------------------------

def _complete(step: OpenTask, data: dict, *, page: str):
    """Complete the person's step with ``data`` (the access-log row in the same transaction);
    None when done, else the page that says why not."""
    user, now = g.user, services().clock.now()
    case_id = step.case_id
    db_session().close()  # no read snapshot held across the step's write (SQLite's WAL)

    def check(s, _instance, _data):
        services().access_log.add_to(s, user_id=user.id, case_id=case_id, page=page, at=now)
        return data

    try:
        services().engine.complete_task(step.instance_id, step.task_id, None, actor_id=user.id, check=check)
    except (Conflict, NotFound, Refused):
        flash(_("Dette er allerede gjort, eller kan ikke gjøres nå."), "error")
        return redirect(url_for("portal.case", case_id=case_id))
    except StepFailed:
        flash(_("Noe gikk galt, og ingenting er lagret. Koordinatoren får beskjed; prøv igjen senere."), "error")
        return redirect(url_for("portal.case", case_id=case_id))
    return None


def _form_page(mine: Standing, schema: dict, act, *, title: str, intro: str | None, submit: str, done: str,
               initial: dict | None = None):
    """A page with one form: shown, read against ``schema``, and on success ``act(data)`` and
    back to ``done``; bad input keeps what was written (HTTP 400); a refused change (the meeting
    moved on, the consent already withdrawn) is said in words."""
    values, errors, status = dict(initial or {}), {}, 200
    if request.method == "POST":
        submission = read_submission(schema, request.form, today=services().clock.today())
        if submission.ok:
            try:
                act(submission.data)
            except DomainError:  # its words are the staff's (bokmål); the reader gets their own
                flash(_("Det gikk ikke: saken har kommet videre i mellomtiden, for eksempel er sakslisten "
                        "sendt ut eller samtykket allerede trukket. Ingenting er lagret."), "error")
                return redirect(done)
            return redirect(done)
        values, errors, status = submission.values, submission.errors, 400
    else:
        _log(mine.case.id, "portal_form")
    return render_template("portal/form.html", me=mine, title=title, intro=intro, submit=submit, back=done,
                           fields=fields_of(schema), values=values, errors=errors), status
