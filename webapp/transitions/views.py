"""Transitions of a case: the list (members with full access), adding and cancelling
(the coordinator)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from webapp.cases.views import case_or_404
from webapp.auth.access import login_required
from webapp.cases.access import Access, is_coordinator
from webapp.cases.operations import DomainError
from webapp.engine.runtime import EngineError
from webapp.services import db_session, services
from webapp.settings.operations import get_setting
from webapp.taskforms.schema import fields_of, posted_values
from webapp.taskforms.submission import read_submission
from webapp.transitions import planning
from webapp.transitions.models import TRANSITION_KINDS
from webapp.transitions.operations import ADDABLE_KINDS, OPEN_STATUSES, case_transitions

bp = Blueprint("transitions", __name__)

ADD_FORM = {
    "type": "object", "required": ["kind", "description", "on_date"], "x-order": ["kind", "description", "on_date"],
    "properties": {
        "kind": {"type": "string", "title": _l("Hva slags overgang"), "x-widget": "select",
                 "oneOf": [{"const": k, "title": _l(TRANSITION_KINDS[k])} for k in ADDABLE_KINDS]},
        "description": {"type": "string", "title": _l("Beskrivelse"), "minLength": 1, "maxLength": 2000,
                        "x-widget": "textarea", "x-help": _l("Hva endrer seg, og hvilke tjenester berøres?")},
        "on_date": {"type": "string", "format": "date", "title": _l("Dato for overgangen"), "x-not-before": "today"},
    },
}

CANCEL_FORM = {
    "type": "object", "required": ["transition_id", "reason"],
    "properties": {
        "transition_id": {"type": "string", "pattern": "^[0-9]{1,9}$"},
        "reason": {"type": "string", "title": _l("Begrunnelse"), "minLength": 1, "maxLength": 2000},
    },
}


def _cancel(case_id: int) -> dict:
    """Cancel from the posted form; returns the form state to show again (empty when done)."""
    submission = read_submission(CANCEL_FORM, request.form, today=services().clock.today())
    raw_id = (request.form.get("transition_id") or "")[:20]
    state = {"id": raw_id, "values": {"reason": request.form.get("reason", "")}, "errors": dict(submission.errors)}
    if "transition_id" in state["errors"]:
        state["errors"] = {"": _("Overgangen finnes ikke eller kan ikke avbrytes.")}
    elif submission.ok:
        try:
            planning.cancel(services(), case_id, int(submission.data["transition_id"]),
                            reason=submission.data["reason"], actor_id=g.user.id)
        except DomainError:
            state["errors"] = {"": _("Overgangen finnes ikke eller kan ikke avbrytes.")}
        else:
            return {}
    return state


@bp.route("/saker/<id:case_id>/overganger", methods=["GET", "POST"])
@login_required
def index(case_id: int):
    case, _access = case_or_404(case_id, Access.FULL)
    session = db_session()
    coordinator = is_coordinator(session, g.user, case_id)
    today = services().clock.today()
    add_values, add_errors, cancel_state, status = {}, {}, {}, 200
    if request.method == "POST":
        if not coordinator:
            abort(404)
        if "transition_id" in request.form:
            cancel_state = _cancel(case_id)
            if not cancel_state:
                flash(_("Overgangen er avbrutt, og gjennomgangen er stoppet."))
                return redirect(url_for("transitions.index", case_id=case_id))
        else:
            submission = read_submission(ADD_FORM, request.form, today=today)
            if submission.ok:
                actor_id = g.user.id
                session.rollback()  # no read transaction open across the write (SQLite's WAL)
                try:
                    planning.add(services(), case_id, kind=submission.data["kind"],
                                 description=submission.data["description"],
                                 on_date=date.fromisoformat(submission.data["on_date"]), actor_id=actor_id)
                except (EngineError, DomainError):
                    current_app.logger.exception("adding a transition failed")
                    add_values = posted_values(ADD_FORM, request.form)
                    add_errors = {"": _("Overgangen kunne ikke registreres nå. Ingenting er lagret; prøv igjen.")}
                    status = 503
                else:
                    flash(_("Overgangen er registrert. Gjennomgangen av sammensetningen starter %(n)s måneder før.",
                            n=get_setting(session, "transition_review_months")))
                    return redirect(url_for("transitions.index", case_id=case_id))
            else:
                add_values, add_errors = submission.values, submission.errors
        if status == 200:
            status = 400
    services().access_log.record(user_id=g.user.id, case_id=case_id, page="transitions", at=services().clock.now())
    return render_template(
        "transitions/index.html", case=case, transitions=case_transitions(session, case_id),
        is_coordinator=coordinator, open_statuses=OPEN_STATUSES, fields=fields_of(ADD_FORM),
        values=add_values, errors=add_errors, cancel=cancel_state, today=today,
        review_months=get_setting(session, "transition_review_months")), status
