from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from webapp.auth.access import login_required
from webapp.cases.access import case_visible
from webapp.engine.models import ProcessInstance
from webapp.engine.runtime import Conflict, NotFound, StepFailed
from webapp.services import db_session, services
from webapp.taskforms.schema import coerce, fields_of, validate
from webapp.tasks import queries

bp = Blueprint("tasks", __name__)


@bp.route("/")
def home():
    return redirect(url_for("tasks.inbox"))


@bp.route("/oppgaver")
@login_required
def inbox():
    rows = queries.inbox(db_session(), g.user)
    return render_template("tasks/inbox.html", rows=rows, now=services().clock.now())


def _load(instance_id: int, task_id: str):
    session = db_session()
    open_task = queries.task_for(session, g.user, instance_id, task_id)
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or not case_visible(session, g.user, instance.case_id):
        abort(404)
    return open_task, instance


@bp.route("/oppgaver/<int:instance_id>/<task_id>", methods=["GET", "POST"])
@login_required
def task(instance_id: int, task_id: str):
    open_task, instance = _load(instance_id, task_id)
    if open_task is None:
        done = services().engine.completion_of(db_session(), instance_id, task_id)
        if done is None:
            abort(404)
        return render_template("tasks/conflict.html", done_by=done[0], done_at=done[1],
                               case_id=instance.case_id), 409
    schema = instance.definition.forms.get(open_task.form, {"type": "object", "properties": {}})
    fields = fields_of(schema)
    values: dict = {}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        data, errors = coerce(schema, request.form)
        if not errors:
            errors = validate(schema, data)
        values = {f.name: (request.form.getlist(f.name) if f.widget == "checkboxes" else request.form.get(f.name, ""))
                  for f in fields}
        if not errors:
            try:
                result = services().engine.complete_task(instance_id, task_id, data, actor_id=g.user.id)
            except Conflict as exc:
                return render_template("tasks/conflict.html", done_by=exc.done_by, done_at=exc.done_at,
                                       case_id=instance.case_id), 409
            except NotFound:
                abort(404)
            except StepFailed as exc:
                return render_template("tasks/failed.html", incident_id=exc.incident_id,
                                       case_id=instance.case_id), 503
            db_session().rollback()  # end the read snapshot taken before the step
            following = queries.next_task_in_case(db_session(), g.user, result.case_id)
            if following is not None:
                return redirect(url_for("tasks.task", instance_id=following.instance_id,
                                        task_id=following.task_id))
            return redirect(url_for("cases.show", case_id=result.case_id))
        status = 400
    else:
        data = services().engine.task_data(db_session(), instance, task_id)
        values = {f.name: data[f.name] for f in fields if f.name in data}
    return render_template("tasks/task.html", open_task=open_task, instance=instance, fields=fields,
                           values=values, errors=errors, schema=schema), status
