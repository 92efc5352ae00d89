"""Administration of municipality profiles: the list, what a profile will change, applying it."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from webapp.auth.access import role_required
from webapp.profiles.catalogue import NAME, PROFILES_DIR, ProfileError, get_profile, profile_names
from webapp.profiles.operations import apply, preview
from webapp.services import db_session, services

bp = Blueprint("profiles", __name__, url_prefix="/admin/profiler")


def _root() -> Path:
    """The profiles folder (config ``PROFILES_DIR``, by default ``profiles/`` in the project)."""
    return Path(current_app.config.get("PROFILES_DIR") or PROFILES_DIR)


def _known(name: str) -> str:
    if not NAME.match(name) or name not in profile_names(_root()):
        abort(404)
    return name


@bp.route("/")
@role_required("admin")
def index():
    rows = []  # (name, profile or None, what is wrong with it)
    for name in profile_names(_root()):
        try:
            rows.append((name, get_profile(name, _root()), None))
        except ProfileError as exc:
            rows.append((name, None, str(exc)))
    return render_template("profiles/index.html", rows=rows)


@bp.route("/<name>")
@role_required("admin")
def show(name: str):
    try:
        plan = preview(db_session(), _known(name), root=_root())
    except ProfileError as exc:  # a profile that does not check: say what is wrong, never a 500
        return render_template("profiles/show.html", plan=None, name=name, problem=str(exc))
    db_session().rollback()  # end the read transaction
    return render_template("profiles/show.html", plan=plan, name=name, problem=None)


@bp.route("/<name>/bruk", methods=["POST"])
@role_required("admin")
def apply_profile(name: str):
    name = _known(name)
    db_session().rollback()  # no read snapshot held across the write (SQLite WAL)
    try:
        result = apply(services(), name, g.user.id, root=_root())
    except ProfileError as exc:
        flash(str(exc), "error")
        return redirect(url_for("profiles.show", name=name))
    if not result.settings and not result.published:
        flash(_("Profilen «%(title)s» var allerede i bruk. Ingenting er endret.", title=result.profile.title))
    else:
        flash(_("Profilen «%(title)s» er tatt i bruk: %(settings)s innstilling(er) endret, %(processes)s prosess(er) "
                "publisert i ny versjon.", title=result.profile.title, settings=len(result.settings),
                processes=len(result.published)))
    return redirect(url_for("profiles.show", name=name))
