"""Supervisors' actions on stuck cases (webapp.supervision.actions): retry, reassign, hand over,
cancel, remind, one at a time or on a selection. Every POST carries a reason; a missing or too
long reason (or a choice still to make) brings back a confirmation page with the input kept and
nothing changed. After an action: back to ``next`` (a path under /tilsyn) with the outcome flashed.
Pages show register data only: case reference and title, step names, people's names and roles."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.access import role_required
from webapp.cases import register_data
from webapp.cases.models import Case
from webapp.engine.models import Incident, OpenTask, ProcessInstance
from webapp.services import db_session, services
from webapp.supervision import actions
from webapp.supervision.actions import ActionRefused, ActionResult
from webapp.templating import local_date

bp = Blueprint("supervision_actions", __name__, url_prefix="/tilsyn/handlinger")
SUPERVISORS = ("system_owner", "coordinating_unit")
HOME = "/tilsyn/"
#: the bulk toolbar's actions -> the checkbox name holding their ids
BULK_FIELDS = {"retry": "incident", "cancel": "instance", "remind": "case", "reassign": "step"}
#: flashes are kept in the session cookie: at most this many item lines, then a count
MAX_FLASHED_ITEMS = 10


def safe_next(target: str | None) -> str:
    """``target`` if it is a local path under /tilsyn, else the supervision page."""
    if not target or any(ch in target for ch in "\\\r\n\t") or target.startswith("//"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == "/tilsyn" or parts.path.startswith("/tilsyn/")):
        return HOME
    return target


def _next() -> str:
    return safe_next(request.values.get("next"))


def _ids(values: list[str]) -> list[int]:
    """Posted ids; anything that is not a plain positive number is left out."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and 0 < len(v) < 12 and int(v) > 0]


def _one_id(name: str) -> int | None:
    found = _ids([(request.form.get(name) or "").strip()])
    return found[0] if found else None


def _flash_result(result: ActionResult, done_text: str) -> None:
    if result.done:
        flash(done_text % {"n": result.done})
    ordered = result.not_done + [o for o in result.outcomes if o.ok]  # what went wrong first
    shown = ordered[:MAX_FLASHED_ITEMS]
    for outcome in shown:
        flash(outcome.message, "info" if outcome.ok else "error")
    if len(result.outcomes) > len(shown):
        flash(_("… og %(n)s til.", n=len(result.outcomes) - len(shown)))


def _log_cases(case_ids) -> None:
    """Confirmation pages list cases: each read is access-logged, as on the supervision page."""
    ids = sorted({c for c in case_ids if c is not None})
    if ids:
        services().access_log.record_many(user_id=g.user.id, case_ids=ids, at=services().clock.now(),
                                          page="supervision_action")


def _confirm(*, heading: str, intro: str | None, items: list[str], action: str, hidden: list[tuple[str, object]],
             submit: str, error: str | None = None, people=None, chosen=None, status: int = 200):
    return render_template("supervision/action_confirm.html", heading=heading, intro=intro, items=items,
                           action=action, hidden=hidden, submit=submit, error=error, people=people,
                           chosen=chosen, reason=request.form.get("reason", ""), next=_next()), status


def _close_read_session() -> int:
    """The actions run in their own transactions: no read snapshot is held across them."""
    actor_id = g.user.id
    db_session().close()
    return actor_id


# ---------------------------------------------------------------------- retry

def _incident_items(session, incident_ids: list[int]) -> tuple[list[str], list[int]]:
    rows = session.execute(select(Incident, ProcessInstance, Case)
                           .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
                           .join(Case, Case.id == ProcessInstance.case_id)
                           .where(Incident.id.in_(incident_ids or [-1])).order_by(Incident.id)).all()
    items = [_("Sak %(ref)s: %(process)s, steget «%(step)s»", ref=case.reference, process=instance.definition.name,
               step=register_data.incident_step(incident, instance)) for incident, instance, case in rows]
    return items, [case.id for *_rest, case in rows]


@bp.route("/hendelser/<id:incident_id>/prov-igjen", methods=["POST"])
@role_required(*SUPERVISORS)
def retry(incident_id: int):
    try:
        actions.check_reason(request.form.get("reason"))
    except ActionRefused as refused:
        items, case_ids = _incident_items(db_session(), [incident_id])
        if not items:
            abort(404)
        _log_cases(case_ids)
        return _confirm(heading=_("Prøv steget igjen"), intro=None, items=items,
                        action=url_for(".retry", incident_id=incident_id), hidden=[], submit=_("Prøv igjen"),
                        error=refused.message, status=400)
    result = actions.retry_incidents(services(), [incident_id], reason=request.form["reason"],
                                     actor_id=_close_read_session())
    _flash_result(result, _("%(n)s steg gikk gjennom."))
    return redirect(_next())


@bp.route("/hendelser/<id:incident_id>/prov-igjen-alle", methods=["GET", "POST"])
@role_required(*SUPERVISORS)
def retry_kind(incident_id: int):
    """All open incidents of the same kind: the same process (any version), failing in the same step."""
    kind = actions.incident_kind(db_session(), incident_id)
    if kind is None:
        if request.method == "GET":
            abort(404)
        flash(_("Hendelsen er allerede løst."), "error")
        return redirect(_next())
    error = None
    if request.method == "POST":
        try:
            result = actions.retry_kind(services(), incident_id, reason=request.form.get("reason"),
                                        actor_id=_close_read_session())
        except ActionRefused as refused:
            error = refused.message
        else:
            _flash_result(result, _("%(n)s steg gikk gjennom."))
            return redirect(_next())
    intro = _("Samme slag betyr samme prosess og samme steg: %(process)s, steget «%(step)s». "
              "Åpne hendelser av dette slaget: %(n)s. Høyst %(max)s prøves i én omgang, de eldste først.",
              process=kind.process_name, step=kind.step_name, n=kind.open_count, max=actions.MAX_SELECTION)
    return _confirm(heading=_("Prøv igjen alle hendelser av samme slag"), intro=intro, items=[],
                    action=url_for(".retry_kind", incident_id=incident_id), hidden=[], submit=_("Prøv alle igjen"),
                    error=error, status=400 if error else 200)


# ---------------------------------------------------------------------- reassign

def _step_items(session, task_ids: list[int]) -> tuple[list[OpenTask], dict[int, Case]]:
    tasks = session.scalars(select(OpenTask).where(OpenTask.id.in_(task_ids or [-1])).order_by(OpenTask.id)).all()
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({t.case_id for t in tasks} or {-1})))}
    register_data.prime(session, {}, tasks)
    return tasks, cases


def _step_label(task: OpenTask, case: Case) -> str:
    """Register data whatever else the viewer may see: the step's name, never its detail."""
    return _("Sak %(ref)s (%(title)s): steget «%(step)s»", ref=case.reference, title=case.title,
             step=register_data.register_task_title(db_session(), task))


def _people_for(session, tasks: list[OpenTask]) -> list[dict]:
    """Everyone eligible for at least one of the steps, with how many of them they may take."""
    people: dict[int, dict] = {}
    for task in tasks:
        for person in actions.eligible_people(session, task):
            entry = people.setdefault(person.user_id, {"user_id": person.user_id, "name": person.name,
                                                       "roles": [], "steps": 0})
            entry["steps"] += 1
            if person.role not in entry["roles"]:
                entry["roles"].append(person.role)
    return sorted(people.values(), key=lambda p: (p["name"], p["user_id"]))


def _reassign_page(task_ids: list[int], action: str, hidden, *, error=None, status=200):
    session = db_session()
    tasks, cases = _step_items(session, task_ids)
    if not tasks:
        abort(404)
    _log_cases(cases)
    people = _people_for(session, tasks)
    intro = _("Bare aktive deltakere i saken som har stegets rolle kan få steget (for enhetens roller: "
              "brukere med den rollen).")
    if not people:
        intro = _("Ingen aktive personer har rollen steget krever. Koordinatoren må først legge til "
                  "noen med rollen i gruppen.")
    return _confirm(heading=_("Gi steget til en annen"), intro=intro,
                    items=[_step_label(t, cases[t.case_id]) for t in tasks], action=action, hidden=hidden,
                    submit=_("Gi steget videre"), error=error, people=people,
                    chosen=request.form.get("user_id"), status=status)


@bp.route("/steg/<id:open_task_id>/tildel", methods=["GET", "POST"])
@role_required(*SUPERVISORS)
def reassign(open_task_id: int):
    action = url_for(".reassign", open_task_id=open_task_id)
    if request.method == "GET":
        return _reassign_page([open_task_id], action, [])
    user_id = _one_id("user_id")
    try:
        actions.check_reason(request.form.get("reason"))
        if user_id is None:
            raise ActionRefused(_("Velg personen som skal få steget."))
    except ActionRefused as refused:
        return _reassign_page([open_task_id], action, [], error=refused.message, status=400)
    result = actions.reassign_steps(services(), [open_task_id], user_id, reason=request.form["reason"],
                                    actor_id=_close_read_session())
    _flash_result(result, _("%(n)s steg er gitt videre."))
    return redirect(_next())


# ---------------------------------------------------------------------- hand-over

@bp.route("/overlevering", methods=["GET", "POST"])
@role_required(*SUPERVISORS)
def handover():
    """All open steps of a person who leaves, to a named person (each step checked as a
    reassignment). Ending the person's roles in the groups is the coordinator's, deactivating
    the account the administrator's."""
    session = db_session()
    error = None
    if request.method == "POST":
        from_id, to_id = _one_id("from_user_id"), _one_id("to_user_id")
        try:
            actions.check_reason(request.form.get("reason"))
            if from_id is None or to_id is None:
                raise ActionRefused(_("Velg både personen som slutter og personen som overtar."))
            result = actions.hand_over_steps(services(), from_id, to_id, reason=request.form["reason"],
                                             actor_id=_close_read_session())
        except ActionRefused as refused:
            error = refused.message
        else:
            _flash_result(result, _("%(n)s steg er overlevert."))
            return redirect(_next())
    holders, staff = actions.handover_candidates(session)
    return render_template("supervision/action_handover.html", holders=holders, staff=staff, error=error,
                           values=request.form, next=_next()), 400 if error else 200


# ---------------------------------------------------------------------- cancel

def _instance_items(session, instance_ids: list[int]) -> tuple[list[str], list[int]]:
    rows = session.execute(select(ProcessInstance, Case).join(Case, Case.id == ProcessInstance.case_id)
                           .where(ProcessInstance.id.in_(instance_ids or [-1])).order_by(ProcessInstance.id)).all()
    items = [_("Sak %(ref)s (%(title)s): %(process)s, startet %(date)s", ref=case.reference, title=case.title,
               process=instance.definition.name, date=local_date(instance.created_at)) for instance, case in rows]
    return items, [case.id for _instance, case in rows]


@bp.route("/episoder/<id:instance_id>/avbryt", methods=["GET", "POST"])
@role_required(*SUPERVISORS)
def cancel(instance_id: int):
    error = None
    if request.method == "POST":
        try:
            result = actions.cancel_episodes(services(), [instance_id], reason=request.form.get("reason"),
                                             actor_id=_close_read_session())
        except ActionRefused as refused:
            error = refused.message
        else:
            _flash_result(result, _("Episoder avbrutt: %(n)s."))
            return redirect(_next())
    items, case_ids = _instance_items(db_session(), [instance_id])
    if not items:
        abort(404)
    _log_cases(case_ids)
    return _confirm(heading=_("Avbryt episoden"),
                    intro=_("Episoden stoppes: åpne steg i den forsvinner og feil i den lukkes. "
                            "Det kan ikke angres."),
                    items=items, action=url_for(".cancel", instance_id=instance_id), hidden=[],
                    submit=_("Avbryt episoden"), error=error, status=400 if error else 200)


# ---------------------------------------------------------------------- remind

def _case_items(session, case_ids: list[int]) -> tuple[list[str], list[int]]:
    cases = session.scalars(select(Case).where(Case.id.in_(case_ids or [-1])).order_by(Case.reference)).all()
    return ([_("Sak %(ref)s (%(title)s)", ref=c.reference, title=c.title) for c in cases], [c.id for c in cases])


@bp.route("/saker/<id:case_id>/paminn", methods=["POST"])
@role_required(*SUPERVISORS)
def remind(case_id: int):
    try:
        result = actions.remind_coordinators(services(), [case_id], reason=request.form.get("reason"),
                                             actor_id=_close_read_session())
    except ActionRefused as refused:
        items, case_ids = _case_items(db_session(), [case_id])
        if not items:
            abort(404)
        _log_cases(case_ids)
        return _confirm(heading=_("Send påminnelse til koordinatoren"),
                        intro=_("E-posten sier bare at noe venter i saken, med lenke. Begrunnelsen sendes ikke."),
                        items=items, action=url_for(".remind", case_id=case_id), hidden=[],
                        submit=_("Send påminnelse"), error=refused.message, status=400)
    _flash_result(result, _("Påminnelser sendt: %(n)s."))
    return redirect(_next())


# ---------------------------------------------------------------------- a selection

BULK_TEXT = {
    "retry": lambda: (_("Prøv valgte hendelser igjen"), _("Prøv igjen"), _("%(n)s steg gikk gjennom.")),
    "cancel": lambda: (_("Avbryt valgte episoder"), _("Avbryt episodene"), _("Episoder avbrutt: %(n)s.")),
    "remind": lambda: (_("Send påminnelse til koordinatorene i valgte saker"), _("Send påminnelser"),
                       _("Påminnelser sendt: %(n)s.")),
    "reassign": lambda: (_("Gi valgte steg til én person"), _("Gi stegene videre"), _("%(n)s steg er gitt videre.")),
}


@bp.route("/utvalg", methods=["POST"])
@role_required(*SUPERVISORS)
def bulk():
    """The toolbar's form: ``action`` and the ids of the checked rows (``incident``, ``instance``,
    ``case`` or ``step``, by action). Reassigning asks for the person first (those eligible for at
    least one of the steps); each item is then checked and reported on its own."""
    action = request.form.get("action", "")
    if action not in BULK_FIELDS:
        flash(_("Velg hva som skal gjøres med de valgte radene."), "error")
        return redirect(_next())
    field_name = BULK_FIELDS[action]
    ids = _ids(request.form.getlist(field_name))
    heading, submit, done_text = BULK_TEXT[action]()
    hidden = [("action", action)] + [(field_name, i) for i in ids]
    try:
        ids = actions.check_selection(ids)
    except ActionRefused as refused:
        flash(refused.message, "error")
        return redirect(_next())
    user_id, reason_error = _one_id("user_id"), None
    try:
        actions.check_reason(request.form.get("reason"))
    except ActionRefused as refused:
        reason_error = refused.message
    if action == "reassign" and (reason_error or user_id is None):
        # from the toolbar: choose the person first; from the person page: say what is missing
        error = reason_error or (_("Velg personen som skal få stegene.") if request.form.get("confirm") else None)
        return _reassign_page(ids, url_for(".bulk"), hidden, error=error, status=400 if error else 200)
    if reason_error:
        items, case_ids = {"retry": _incident_items, "cancel": _instance_items,
                           "remind": _case_items}[action](db_session(), ids)
        _log_cases(case_ids)
        return _confirm(heading=heading, intro=None, items=items, action=url_for(".bulk"), hidden=hidden,
                        submit=submit, error=reason_error, status=400)
    reason, svc, actor_id = request.form["reason"], services(), _close_read_session()
    if action == "retry":
        result = actions.retry_incidents(svc, ids, reason=reason, actor_id=actor_id)
    elif action == "cancel":
        result = actions.cancel_episodes(svc, ids, reason=reason, actor_id=actor_id)
    elif action == "remind":
        result = actions.remind_coordinators(svc, ids, reason=reason, actor_id=actor_id)
    else:
        result = actions.reassign_steps(svc, ids, user_id, reason=reason, actor_id=actor_id)
    _flash_result(result, done_text)
    return redirect(_next())
