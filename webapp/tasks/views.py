from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp import library_texts
from webapp.auth.access import login_required
from webapp.cases import register_data
from webapp.cases.access import Access, case_access
from webapp.cases.models import Case
from webapp.auth.models import User
from webapp.engine.models import ProcessInstance
from webapp.engine.runtime import Conflict, NotFound, Refused, StepFailed
from webapp.paging import paginate
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
    session, now, today = db_session(), services().clock.now(), services().clock.today()
    params = _inbox_params()
    window = {"overdue": {"due_before": now}, "week": {"due_from": now, "due_before": _next_monday(now)}}
    query = queries.inbox(session, g.user, today, sort=params["sort"], case_id=params["sak"],
                          search=params["q"] or None, **window.get(params["vis"], {}))
    keys, descending = queries.inbox_keys(params["sort"])
    page = paginate(session, query, keys, request.args.get("etter"), descending=descending)
    found = queries.inbox_rows(session, g.user, today, [row[0] for row in page.rows])
    rows = [(task, case) for task, case, _level in found]
    register_data.prime(session, {case.id: level for _task, case, level in found}, [task for task, _case in rows])
    cases = queries.inbox_cases(session, g.user, today)
    return render_template("tasks/inbox.html", rows=rows, now=now, params=params, cases=cases, page=page,
                           filtered=params != {"sort": params["sort"], "vis": "all", "sak": None, "q": ""})


@bp.route("/oppgaver/<id:instance_id>/<task_id>", methods=["GET", "POST"])
@login_required
def task(instance_id: int, task_id: str):
    if request.method == "POST":
        return _complete(instance_id, task_id)
    session, engine = db_session(), services().engine
    now, today = services().clock.now(), services().clock.today()
    page = queries.task_page(session, g.user, instance_id, task_id, today)
    if page is None:
        return _not_open(session, instance_id, task_id)
    view = engine.task_view(session, page.instance, page.task.task_spec, task_id)
    defaults = DEFAULTS.get(view.properties.get("formDefaults"))
    values = defaults(session, page.case, view.data, today) if defaults else {}
    values.update({k: v for k, v in view.data.items() if k in view.schema.get("properties", {})})
    services().access_log.record(user_id=g.user.id, case_id=page.case.id, page="task", at=now)
    return _render(session, page, view, values, {}, 200)


def _complete(instance_id: int, task_id: str):
    """POST: access, the form's validation, the step and the access-log row in one transaction
    (the engine's, once it holds the instance locked); then on to the user's next step."""
    session, engine, user = db_session(), services().engine, g.user
    now, today = services().clock.now(), services().clock.today()
    session.close()  # no read snapshot held across the step's write (SQLite's WAL); g.user stays loaded
    checked = {}

    def check(s, instance, data):
        page = queries.task_page(s, user, instance_id, task_id, today, with_instance=False)
        if page is None:
            raise NotFound("not this user's step")
        view = engine.task_view(s, instance, page.task.task_spec, task_id, data=data)
        submission = _read_form(s, page.case, view, now, today)
        if not submission.ok:
            raise Refused(submission)
        services().access_log.add_to(s, user_id=user.id, case_id=page.case.id, page="task", at=now)
        checked["title"] = page.task.title
        checked["case"] = page.case  # held, so the step's handlers find it loaded in the session
        return submission.data

    try:
        result = engine.complete_task(instance_id, task_id, None, actor_id=user.id, check=check)
    except Refused as refused:
        page = queries.task_page(session, user, instance_id, task_id, today)
        if page is None:
            return _not_open(session, instance_id, task_id)
        view = engine.task_view(session, page.instance, page.task.task_spec, task_id)
        return _render(session, page, view, refused.detail.values, refused.detail.errors, 400)
    except Conflict as exc:
        case_id = _case_of(session, instance_id)
        return _conflict(session, case_id, exc.done_by_id, exc.done_at)
    except NotFound:
        return _not_open(session, instance_id, task_id)
    except StepFailed as exc:
        case_id = _case_of(session, instance_id)
        return render_template("tasks/failed.html", incident_id=exc.incident_id, case_id=case_id), 503
    following = result.next_for(user.id)  # from the step's own new open tasks: no query
    if following is not None:
        return redirect(url_for("tasks.task", instance_id=following.instance_id, task_id=following.task_id))
    flash(_("Steget er fullført: %(name)s", name=library_texts.title(checked["title"])))
    return redirect(url_for("cases.show", case_id=result.case_id))


def _read_form(session, case: Case, view, now, today):
    """The posted form read against its schema, plus the rules of its ``formCheck`` (those
    need the case's data), reported together."""
    options = option_source(session, case, today)
    schema = library_texts.schema(view.schema)
    submission = read_submission(schema, request.form, today=today, options=options)
    check = CHECKS.get(view.properties.get("formCheck"))
    if check is not None:
        for key, message in check(session, case, view.data, submission.data, now).items():
            submission.errors.setdefault(key, message)
        if submission.errors and not submission.values:
            submission.values = posted_values(schema, request.form, options=options)
    return submission


def _render(session, page, view, values: dict, errors: dict, status: int):
    today = services().clock.today()
    context = CONTEXTS.get(view.properties.get("context"))
    schema = library_texts.schema(view.schema)
    return render_template(
        "tasks/task.html", open_task=page.task, instance=page.instance, case=page.case, schema=schema,
        fields=fields_of(schema, option_source(session, page.case, today)), values=values,
        errors=errors, steps=services().engine.episode_steps(session, page.instance),
        panel=context(session, page.case, view.data) if context else None,
        guideline=library_texts.translate(view.documentation)), status


def _case_of(session, instance_id: int) -> int | None:
    return session.scalar(select(ProcessInstance.case_id).where(ProcessInstance.id == instance_id))


def _not_open(session, instance_id: int, task_id: str):
    """Not a step this user can do now: done already by someone (409, named) if they see the
    case, else a 404 that reveals nothing."""
    case_id = _case_of(session, instance_id)
    if case_id is None or case_access(session, g.user, case_id) == Access.NONE:
        abort(404)
    done = services().engine.completion_of(session, instance_id, task_id)
    if done is None:
        abort(404)
    return _conflict(session, case_id, *done)


def _conflict(session, case_id: int, done_by_id: int | None, done_at):
    """Someone else did this step first (HTTP 409), named."""
    user = session.get(User, done_by_id) if done_by_id else None
    return render_template("tasks/conflict.html", done_by=user.full_name if user else None,
                           done_at=done_at, case_id=case_id), 409
