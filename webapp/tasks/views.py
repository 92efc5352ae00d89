from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from webapp.audit.operations import log_access
from webapp.auth.access import login_required
from webapp.cases.access import Access, case_access
from webapp.cases.models import Case
from webapp.auth.models import User
from webapp.engine.models import ProcessInstance
from webapp.engine.runtime import Conflict, NotFound, StepFailed
from webapp.services import db_session, services
from webapp.taskforms.options import option_source
from webapp.taskforms.providers import CHECKS, CONTEXTS, DEFAULTS
from webapp.taskforms.schema import fields_of, posted_values
from webapp.taskforms.submission import read_submission
from webapp.tasks import queries

bp = Blueprint("tasks", __name__)


@bp.route("/")
def home():
    return redirect(url_for("tasks.inbox"))


INBOX_FILTERS = ("all", "overdue", "week")
MAX_INBOX_SEARCH = 100
OSLO = ZoneInfo("Europe/Oslo")


def _inbox_params() -> dict:
    """The inbox's GET parameters, checked: anything unknown or malformed falls back to the
    default (never an error page)."""
    sort = request.args.get("sort", "due")
    show = request.args.get("vis", "all")
    raw_case = (request.args.get("sak") or "").strip()
    search = (request.args.get("q") or "").strip()[:MAX_INBOX_SEARCH].replace("\x00", "")
    return {"sort": sort if sort in queries.INBOX_SORTS else "due",
            "vis": show if show in INBOX_FILTERS else "all",
            "sak": int(raw_case) if raw_case.isascii() and raw_case.isdigit() and len(raw_case) < 12 else None,
            "q": search}


def _next_monday(now: datetime) -> datetime:
    """The start of next week (Monday 00:00 in Oslo), as UTC."""
    local = now.astimezone(OSLO)
    monday = (local + timedelta(days=7 - local.weekday())).date()
    return datetime.combine(monday, datetime.min.time(), tzinfo=OSLO).astimezone(timezone.utc)


@bp.route("/oppgaver")
@login_required
def inbox():
    session, now = db_session(), services().clock.now()
    params = _inbox_params()
    visible = {}
    for _task, case in queries.inbox(session, g.user):
        if case.id not in visible and case_access(session, g.user, case.id) > Access.NONE:
            visible[case.id] = case
    window = {"overdue": {"due_before": now}, "week": {"due_from": now, "due_before": _next_monday(now)}}
    rows = [(task, case) for task, case in queries.inbox(
                session, g.user, sort=params["sort"], case_id=params["sak"], search=params["q"] or None,
                **window.get(params["vis"], {}))
            if case.id in visible]
    cases = sorted(visible.values(), key=lambda c: c.reference)
    return render_template("tasks/inbox.html", rows=rows, now=now, params=params, cases=cases,
                           filtered=params != {"sort": params["sort"], "vis": "all", "sak": None, "q": ""})


@bp.route("/oppgaver/<id:instance_id>/<task_id>", methods=["GET", "POST"])
@login_required
def task(instance_id: int, task_id: str):
    session, engine = db_session(), services().engine
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or case_access(session, g.user, instance.case_id) == Access.NONE:
        abort(404)
    open_task = queries.task_for(session, g.user, instance_id, task_id)
    if open_task is None:
        done = engine.completion_of(session, instance_id, task_id)
        if done is None:
            abort(404)
        return _conflict(session, instance.case_id, *done)
    case = session.get(Case, instance.case_id)
    now, today = services().clock.now(), services().clock.today()
    options = option_source(session, case, today)
    view = engine.task_view(session, instance, open_task.task_spec, task_id)
    schema, properties, data = view.schema, view.properties, view.data
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        submission = read_submission(schema, request.form, today=today, options=options)
        check = CHECKS.get(properties.get("formCheck"))  # rules that need the case's data
        if check is not None:  # reported together with the form's own errors
            for key, message in check(session, case, data, submission.data, now).items():
                submission.errors.setdefault(key, message)
            if submission.errors and not submission.values:
                submission.values = posted_values(schema, request.form, options=options)
        if submission.ok:
            step_title = open_task.title  # read before the step removes the open-task row
            case_id, actor_id = instance.case_id, g.user.id
            # No read transaction stays open across the step's write (on SQLite an open snapshot
            # keeps the WAL from being checkpointed); reads after the step start a fresh one.
            session.rollback()
            try:
                result = engine.complete_task(instance_id, task_id, submission.data, actor_id=actor_id)
            except Conflict as exc:
                return _conflict(session, case_id, exc.done_by_id, exc.done_at)
            except NotFound:
                abort(404)
            except StepFailed as exc:
                return render_template("tasks/failed.html", incident_id=exc.incident_id,
                                       case_id=case_id), 503
            following = queries.next_task_in_case(session, g.user, result.case_id, result.instance_id)
            if following is not None:
                return redirect(url_for("tasks.task", instance_id=following.instance_id,
                                        task_id=following.task_id))
            flash(_("Steget er fullført: %(name)s", name=step_title))
            return redirect(url_for("cases.show", case_id=result.case_id))
        values, errors, status = submission.values, submission.errors, 400
    if request.method == "GET":
        defaults = DEFAULTS.get(properties.get("formDefaults"))
        values = defaults(session, case, data, today) if defaults else {}
        values.update({k: v for k, v in data.items() if k in schema.get("properties", {})})
        log_access(services().db, user_id=g.user.id, case_id=case.id, page="task", at=now)
    context = CONTEXTS.get(properties.get("context"))
    panel = context(session, case, data) if context else None
    return render_template(
        "tasks/task.html", open_task=open_task, instance=instance, case=case, schema=schema,
        fields=fields_of(schema, options), values=values, errors=errors,
        steps=engine.episode_steps(session, instance), panel=panel,
        guideline=view.documentation), status


def _conflict(session, case_id: int, done_by_id: int | None, done_at):
    """Someone else did this step first (HTTP 409), named."""
    user = session.get(User, done_by_id) if done_by_id else None
    return render_template("tasks/conflict.html", done_by=user.full_name if user else None,
                           done_at=done_at, case_id=case_id), 409
