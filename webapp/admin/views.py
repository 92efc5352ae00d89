"""Administration: municipality settings, units and user accounts."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

import secrets

from webapp.admin import operations as admin_ops
from webapp.admin.forms import PASSWORD_MAX, PASSWORD_MIN, ROLE_TITLES, UNIT_FORM, UNIT_KINDS, USER_EDIT_FORM, USER_FORM
from webapp.auth.access import role_required
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Case, CaseMember, Unit
from webapp.cases.operations import DomainError, add_unit
from webapp.engine.models import OpenTask
from webapp.outbox.operations import Outbox
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
            elif definition.kind == "domains":
                from webapp.outbox.addresses import normalised_domains
                raw = (request.form.get(key) or "").strip()
                values[key] = raw
                value = normalised_domains(raw)
                if value is None:
                    errors[key] = _("Skriv e-postdomener skilt med komma, for eksempel «kommune.no, skole.kommune.no».")
                    continue
            else:
                raw = (request.form.get(key) or "").strip()[:40]
                values[key] = raw
                if not (raw.isascii() and raw.isdigit()) or not definition.allows(int(raw)):
                    errors[key] = _("Skriv et helt tall fra %(min)s til %(max)s.",
                                    min=definition.minimum, max=definition.maximum)
                    continue
                value = int(raw)
            values[key] = value
            if value != current[key]:
                changes[key] = value
        if not errors and values.get("own_access_age", 0) > values.get("guardian_access_consent_age", 99):
            # else a young person between the two ages would be seen by nobody on the person's side
            errors["own_access_age"] = _("Alderen for egen tilgang kan ikke være høyere enn alderen der "
                                         "foresatte trenger personens samtykke.")
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


def _user_or_404(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _user_page(user: User, *, status: int = 200, values=None, errors=None, password_error=None,
               password_mode="generate", generated=None, deactivate_error=None, successor_id=""):
    session = db_session()
    if values is None:
        values = {"full_name": user.full_name, "email": user.email or "", "roles": sorted(user.role_set)}
    memberships = session.execute(
        select(CaseMember.role, Case.reference).join(Case, Case.id == CaseMember.case_id)
        .where(CaseMember.user_id == user.id, CaseMember.active.is_(True)).order_by(Case.reference)).all()
    open_steps = len(session.scalars(select(OpenTask.id).where(OpenTask.assignee_id == user.id)).all())
    successors = [u for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name))
                  if u.id != user.id and u.has_role("staff")]
    return render_template(
        "admin/user.html", user=user, role_titles=ROLE_TITLES, fields=fields_of(USER_EDIT_FORM),
        values=values, errors=errors or {}, memberships=memberships, open_steps=open_steps,
        successors=successors, password_error=password_error, password_mode=password_mode,
        generated=generated, deactivate_error=deactivate_error, successor_id=successor_id,
        password_min=PASSWORD_MIN, password_max=PASSWORD_MAX), status


@bp.route("/brukere/<id:user_id>", methods=["GET", "POST"])
@role_required("admin")
def user(user_id: int):
    target = _user_or_404(user_id)
    if request.method == "GET":
        return _user_page(target)
    submission = read_submission(USER_EDIT_FORM, request.form, today=_today())
    if submission.ok:
        data = submission.data
        try:
            with services().db.transaction() as s:
                changed = admin_ops.update_user(
                    s, s.get(User, user_id), full_name=data["full_name"], email=data.get("email"),
                    roles=data["roles"], at=services().clock.now(), actor_id=g.user.id)
        except DomainError as exc:
            submission.errors = {"roles": str(exc)}
            submission.values = {"full_name": data["full_name"], "email": data.get("email") or "",
                                 "roles": data["roles"]}
        else:
            flash(_("Endringene er lagret.") if changed else _("Ingenting var endret."))
            return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(target, status=400, values=submission.values, errors=submission.errors)


@bp.route("/brukere/<id:user_id>/passord", methods=["POST"])
@role_required("admin")
def reset_password(user_id: int):
    target = _user_or_404(user_id)
    mode = request.form.get("mode")
    if mode not in ("generate", "set"):
        mode = "generate"
    if mode == "generate":
        password = secrets.token_urlsafe(12)
    else:
        password = request.form.get("password") or ""
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX or "\x00" in password:
            return _user_page(target, status=400, password_mode="set", password_error=_(
                "Passordet må ha %(min)s til %(max)s tegn.", min=PASSWORD_MIN, max=PASSWORD_MAX))
    with services().db.transaction() as s:
        ended = admin_ops.reset_password(s, s.get(User, user_id), password, at=services().clock.now(),
                                         actor_id=g.user.id)
    db_session().expire_all()
    if mode == "generate":  # shown once, on this page only (never stored in the session cookie)
        return _user_page(target, generated=password)
    flash(_("Passordet er endret. Gi brukeren det midlertidige passordet på en trygg måte.")
          if ended else _("Passordet er endret."))
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/brukere/<id:user_id>/deaktiver", methods=["POST"])
@role_required("admin")
def deactivate(user_id: int):
    target = _user_or_404(user_id)
    raw = (request.form.get("successor_id") or "").strip()
    successor_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
    if raw and successor_id is None:
        return _user_page(target, status=400, successor_id=raw,
                          deactivate_error=_("Velg en bruker fra listen, eller ingen."))
    services_ = services()
    try:
        with services_.db.transaction() as s:
            successor = s.get(User, successor_id) if successor_id is not None else None
            if successor_id is not None and (successor is None or not successor.has_role("staff")):
                raise DomainError(_("Velg en bruker fra listen, eller ingen."))
            result = admin_ops.deactivate_user(
                s, s.get(User, user_id), successor=successor,
                reassign=services_.engine.reassign,
                outbox_for=lambda case_id: Outbox(s, services_.clock, case_id),
                at=services_.clock.now(), actor_id=g.user.id)
    except DomainError as exc:
        return _user_page(target, status=400, successor_id=raw, deactivate_error=str(exc))
    flash(_("Brukeren er deaktivert. %(m)s roller i grupper er avsluttet, %(s)s åpne steg er overført.",
            m=result.memberships, s=result.steps_moved))
    if result.steps_orphaned:
        flash(_("%(n)s åpne steg har ingen som kan utføre dem og vises som foreldreløse på tilsynssiden.",
                n=result.steps_orphaned), "error")
    if result.cases_without_coordinator:
        flash(_("Disse gruppene trenger ny koordinator (koordinerende enhet er varslet): %(refs)s",
                refs=", ".join(result.cases_without_coordinator)), "error")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/brukere/<id:user_id>/aktiver", methods=["POST"])
@role_required("admin")
def reactivate(user_id: int):
    target = _user_or_404(user_id)
    try:
        with services().db.transaction() as s:
            admin_ops.reactivate_user(s, s.get(User, user_id), at=services().clock.now(), actor_id=g.user.id)
    except DomainError as exc:
        return _user_page(target, status=400, deactivate_error=str(exc))
    flash(_("Brukeren er aktiv igjen og kan logge inn."))
    return redirect(url_for("admin.user", user_id=user_id))
