"""Test runs of a draft in the browser: start, the run page, its steps, timers and failed steps.

Each run belongs to the user who started it (a run of someone else's is a 404, like an unknown
one); the run's token is in the URL. See ``testrun`` for what a run is."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from webapp.auth.access import role_required
from webapp.services import db_session, services
from webapp.workbench import testrun
from webapp.workbench.models import ProcessDraft

bp = Blueprint("testrun", __name__, url_prefix="/prosesser/utkast/<id:draft_id>/testkjoring")

#: longest token or task id taken from a URL (ours are 22 and 36 characters)
MAX_KEY = 64


def _open_draft(draft_id: int) -> ProcessDraft:
    draft = db_session().get(ProcessDraft, draft_id)
    if draft is None or draft.status != "open":
        abort(404)
    return draft


def _run(draft_id: int, token: str):
    """The user's run, or the page that says it is not there (404) or has ended (410)."""
    if len(token) > MAX_KEY:
        return None, _missing(draft_id)
    try:
        run = testrun.RUNS.get(token, draft_id=draft_id, user_id=g.user.id)
    except testrun.RunGone as gone:
        return None, (render_template("workbench/testrun_gone.html", draft_id=draft_id, expired=True,
                                      message=gone.message), 410)
    if run is None:
        return None, _missing(draft_id)
    return run, None


def _missing(draft_id: int):
    return render_template("workbench/testrun_gone.html", draft_id=draft_id, expired=False,
                           message=_("Fant ikke testkjøringen. Den kan være startet av en annen bruker, "
                                     "eller lenken er feil.")), 404


@bp.route("/", methods=["GET", "POST"])
@role_required("process_owner", "admin")
def start(draft_id: int):
    draft = _open_draft(draft_id)
    if request.method == "GET":
        return render_template("workbench/testrun_start.html", draft=draft, error=None)
    try:
        run = testrun.start_run(services(), draft_id, user_id=g.user.id)
    except testrun.TestRunError as exc:
        status = 503 if isinstance(exc, testrun.Busy) else 400
        return render_template("workbench/testrun_start.html", draft=draft, error=exc.message), status
    return redirect(url_for("testrun.show", draft_id=draft_id, token=run.token))


@bp.route("/<token>")
@role_required("process_owner", "admin")
def show(draft_id: int, token: str):
    run, refused = _run(draft_id, token)
    if run is None:
        return refused
    with run.lock:
        view = testrun.overview(run)
    return render_template("workbench/testrun.html", run=run, view=view, max_days=testrun.MAX_ADVANCE_DAYS)


@bp.route("/<token>/steg/<id:instance_id>/<task_id>", methods=["GET", "POST"])
@role_required("process_owner", "admin")
def step(draft_id: int, token: str, instance_id: int, task_id: str):
    run, refused = _run(draft_id, token)
    if run is None:
        return refused
    if len(task_id) > MAX_KEY:
        return _step_gone(run)
    with run.lock:
        if request.method == "GET":
            page = testrun.step_page(run, instance_id, task_id)
            return _render_step(run, page, {}, 200) if page else _step_gone(run)
        try:
            message, failed = testrun.complete_step(run, instance_id, task_id, request.form)
        except testrun.FormRefused as refused_form:
            page = testrun.step_page(run, instance_id, task_id, values=refused_form.values)
            if page is None:
                return _step_gone(run)
            return _render_step(run, page, refused_form.errors, 400)
        except testrun.TestRunError as exc:
            flash(exc.message, "error")
            return redirect(url_for("testrun.show", draft_id=draft_id, token=token))
    flash(message, "error" if failed else "message")
    return redirect(url_for("testrun.show", draft_id=draft_id, token=token))


def _render_step(run, page, errors: dict, status: int):
    return render_template("workbench/testrun_step.html", run=run, page=page, values=page.values,
                           errors=errors), status


def _step_gone(run):
    flash(_("Steget er ikke åpent i testkjøringen."), "error")
    return redirect(url_for("testrun.show", draft_id=run.draft_id, token=run.token))


@bp.route("/<token>/spol-fram", methods=["POST"])
@role_required("process_owner", "admin")
def advance(draft_id: int, token: str):
    run, refused = _run(draft_id, token)
    if run is None:
        return refused
    raw = (request.form.get("dager") or "").strip()
    days = None
    if raw:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= testrun.MAX_ADVANCE_DAYS):
            flash(_("Skriv et helt antall dager fra 1 til %(n)s.", n=testrun.MAX_ADVANCE_DAYS), "error")
            return redirect(url_for("testrun.show", draft_id=draft_id, token=token))
        days = int(raw)
    with run.lock:
        try:
            moved = testrun.advance(run, days)
        except testrun.TestRunError as exc:
            flash(exc.message, "error")
            return redirect(url_for("testrun.show", draft_id=draft_id, token=token))
    if moved is None:
        flash(_("Ingen tidsfrist venter i testsaken."))
    else:
        from webapp.templating import local_datetime
        flash(_("Testklokken er nå %(t)s.", t=local_datetime(moved)))
    return redirect(url_for("testrun.show", draft_id=draft_id, token=token))


@bp.route("/<token>/feil/<id:incident_id>", methods=["POST"])
@role_required("process_owner", "admin")
def retry(draft_id: int, token: str, incident_id: int):
    run, refused = _run(draft_id, token)
    if run is None:
        return refused
    with run.lock:
        try:
            message, failed = testrun.retry(run, incident_id)
            flash(message, "error" if failed else "message")
        except testrun.TestRunError as exc:
            flash(exc.message, "error")
    return redirect(url_for("testrun.show", draft_id=draft_id, token=token))


@bp.route("/<token>/avslutt", methods=["POST"])
@role_required("process_owner", "admin")
def discard(draft_id: int, token: str):
    run, refused = _run(draft_id, token)
    if run is None:
        return refused
    testrun.RUNS.end(run)
    flash(_("Testkjøringen er avsluttet og slettet."))
    return redirect(url_for("testrun.start", draft_id=draft_id))
