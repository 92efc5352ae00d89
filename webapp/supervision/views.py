"""Supervisors (system owner, coordinating unit): the cockpit of stuck cases, each with the rule
that makes it stuck and since when, filtered, sorted, saved as views and exported as CSV.
Register data only, never the content of forms: step names come from the diagrams, and every
case listed gets an access-log row. The list is paginated by keyset (webapp/paging.py)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.auth.access import role_required
from webapp.engine.library import latest_definition
from webapp.csv_export import csv_lines
from webapp.services import db_session, services
from webapp.supervision import cockpit
from webapp.supervision.models import SavedView
from webapp.supervision.rules import RULES, read_settings
from webapp.supervision.summary_cache import summary_cache

bp = Blueprint("supervision", __name__, url_prefix="/tilsyn")
SUPERVISORS = ("system_owner", "coordinating_unit")
#: rules about one step of a process: their ``detail`` is the step's BPMN id
STEP_RULES = ("incident", "overdue_step", "orphaned_step")
MAX_SAVED_VIEWS = 50


def _choices(session) -> dict:
    return summary_cache().get("choices", lambda: cockpit.choices(session), services().clock.now())[0]


def _filters(session, args=None) -> cockpit.Filters:
    known = {process_id for process_id, _name in _choices(session)["processes"]}
    return cockpit.read_filters(request.args if args is None else args,
                                known | {"meeting", "evaluation", "transition_review", "measure", "establishment"})


def step_names(session, rows) -> dict[tuple[str, str], str]:
    """The newest version's name of each (process, step) the rows mention."""
    names, definitions = {}, {}
    for row in rows:
        if row.rule in STEP_RULES and row.detail and (row.process_id, row.detail) not in names:
            if row.process_id not in definitions:
                definitions[row.process_id] = latest_definition(session, row.process_id)
            definition = definitions[row.process_id]
            names[row.process_id, row.detail] = (services().engine.step_name(definition, row.detail)
                                                 if definition else None) or row.detail
    return names


@bp.route("/")
@role_required(*SUPERVISORS)
def overview():
    session, now, today = db_session(), services().clock.now(), services().clock.today()
    filters, settings = _filters(session), read_settings(session)
    page = cockpit.stuck_page(session, settings, now, today, filters, request.args.get("etter"))
    services().access_log.record_many(user_id=g.user.id, case_ids=sorted({row.case_id for row in page.rows}),
                                      at=now, page="supervision")
    views = session.scalars(select(SavedView).where(SavedView.user_id == g.user.id).order_by(SavedView.name)).all()
    counts, counted_at = summary_cache().get(("counts", today, tuple(sorted(filters.query_args().items()))),
                                      lambda: cockpit.rule_counts(session, settings, now, today, filters), now)
    return render_template("supervision/overview.html", page=page, rules=RULES, filters=filters,
                           counts=counts, counted_at=counted_at, today=today,
                           names=step_names(session, page.rows), choices=_choices(session),
                           age_stages=cockpit.AGE_STAGES, sorts=cockpit.SORTS, views=views,
                           query=filters.query_args(), here=request.full_path.rstrip("?"))


@bp.route("/saker.csv")
@role_required(*SUPERVISORS)
def export():
    session, now, today = db_session(), services().clock.now(), services().clock.today()
    filters = _filters(session)
    query, keys = cockpit.stuck_rows(read_settings(session), now, today, filters)
    rows = session.execute(query.order_by(*keys)).all()
    services().access_log.record_many(user_id=g.user.id, case_ids=sorted({row.case_id for row in rows}),
                                      at=now, page="supervision_csv")
    names = step_names(session, rows)
    header = [_("Sak"), _("Tittel"), _("Regel"), _("Fast siden"), _("Dager"), _("Prosess"), _("Steg"),
              _("Koordinator")]
    lines = [header] + [[row.reference, row.title, str(RULES[row.rule].title), row.since.isoformat(),
                         (today - row.since).days, row.process_id or "", names.get((row.process_id, row.detail), ""),
                         row.coordinator or ""] for row in rows]
    return Response(csv_lines(lines), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=saker-som-star-fast.csv"})


@bp.route("/visninger", methods=["POST"])
@role_required(*SUPERVISORS)
def save_view():
    name = (request.form.get("name") or "").strip()
    filters = _filters(db_session(), request.form)
    back = url_for("supervision.overview", **filters.query_args())
    if not name or len(name) > 100:
        flash(_("Gi visningen et navn på 1 til 100 tegn."), "error")
        return redirect(back)
    with services().db.transaction() as s:
        count = len(s.scalars(select(SavedView.id).where(SavedView.user_id == g.user.id)).all())
        if count >= MAX_SAVED_VIEWS:
            flash(_("Du har allerede %(n)s lagrede visninger. Slett en først.", n=MAX_SAVED_VIEWS), "error")
            return redirect(back)
        s.add(SavedView(user_id=g.user.id, name=name, query=urlencode(filters.query_args()),
                        created_at=services().clock.now()))
    flash(_("Visningen «%(name)s» er lagret.", name=name))
    return redirect(back)


@bp.route("/visninger/<id:view_id>/slett", methods=["POST"])
@role_required(*SUPERVISORS)
def delete_view(view_id: int):
    with services().db.transaction() as s:
        view = s.get(SavedView, view_id)
        if view is None or view.user_id != g.user.id:
            abort(404)
        s.delete(view)
    flash(_("Visningen er slettet."))
    return redirect(url_for("supervision.overview"))
