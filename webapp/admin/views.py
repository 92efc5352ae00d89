"""Administration: municipality settings, units and user accounts."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.admin.forms import ROLE_TITLES, UNIT_FORM, UNIT_KINDS, USER_FORM
from webapp.auth.access import role_required
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Unit
from webapp.cases.operations import add_unit
from webapp.services import db_session, services
from webapp.settings.defaults import DEFINITIONS
from webapp.settings.operations import all_settings, change_setting
from webapp.taskforms.schema import fields_of
from webapp.taskforms.submission import read_submission

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _today():
    return services().clock.today()


@bp.route("/innstillinger", methods=["GET", "POST"])
@role_required("admin")
def settings():
    current = all_settings(db_session())
    values = dict(current)
    errors: dict[str, str] = {}
    if request.method == "POST":
        changes = {}
        for key, definition in DEFINITIONS.items():
            if definition.kind == "bool":
                value = request.form.get(key) == "on"
            elif definition.kind == "choice":
                value = request.form.get(key) or ""
                values[key] = value
                if value not in {v for v, _label in definition.choices}:
                    errors[key] = _("Velg et av alternativene.")
                    continue
            else:
                raw = (request.form.get(key) or "").strip()
                values[key] = raw
                if not raw.isdigit() or int(raw) > 10_000:
                    errors[key] = _("Skriv et helt tall fra 0 og oppover.")
                    continue
                value = int(raw)
            values[key] = value
            if value != current[key]:
                changes[key] = value
        if not errors:
            with services().db.transaction() as s:
                for key, value in changes.items():
                    change_setting(s, key, value, at=services().clock.now(), actor_id=g.user.id)
            flash(_("Innstillingene er lagret."))
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", definitions=DEFINITIONS, values=values,
                           errors=errors), (400 if errors else 200)


@bp.route("/enheter", methods=["GET", "POST"])
@role_required("admin")
def units():
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        submission = read_submission(UNIT_FORM, request.form, today=_today())
        if submission.ok and db_session().scalar(select(Unit.id).where(Unit.name == submission.data["name"])):
            submission.errors = {"name": _("Det finnes allerede en enhet med dette navnet.")}
            submission.values = {"name": submission.data["name"], "kind": submission.data.get("kind")}
        if submission.ok:
            with services().db.transaction() as s:
                add_unit(s, submission.data["name"], submission.data["kind"], at=services().clock.now(),
                         actor_id=g.user.id)
            flash(_("Enheten er lagt til."))
            return redirect(url_for("admin.units"))
        values, errors, status = submission.values, submission.errors, 400
    rows = db_session().scalars(select(Unit).order_by(Unit.name)).all()
    return render_template("admin/units.html", rows=rows, kinds=dict(UNIT_KINDS), fields=fields_of(UNIT_FORM),
                           values=values, errors=errors), status


@bp.route("/brukere", methods=["GET", "POST"])
@role_required("admin")
def users():
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        submission = read_submission(USER_FORM, request.form, today=_today())
        if submission.ok and db_session().scalar(select(User.id).where(User.username == submission.data["username"])):
            submission.errors = {"username": _("Brukernavnet er tatt.")}
            submission.values = {k: v for k, v in submission.data.items() if k != "password"}
        if submission.ok:
            data = submission.data
            with services().db.transaction() as s:
                create_user(s, data["username"], data["full_name"], data["password"], roles=data["roles"],
                            email=data.get("email"), at=services().clock.now(), actor_id=g.user.id)
            flash(_("Brukeren er opprettet."))
            return redirect(url_for("admin.users"))
        values = {k: v for k, v in submission.values.items() if k != "password"}
        errors, status = submission.errors, 400
    rows = db_session().scalars(select(User).order_by(User.full_name)).all()
    return render_template("admin/users.html", rows=rows, role_titles=ROLE_TITLES, fields=fields_of(USER_FORM),
                           values=values, errors=errors), status
