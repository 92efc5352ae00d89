"""Supervisors' process view (issue 13): each process's diagram with how many steps wait at each
element and for how long, incidents on their elements, the cases waiting at one element, and one
case's episodes on their diagrams. Register data only (webapp/supervision/process_view.py); every
page that lists cases writes their access-log rows."""
from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.auth.access import role_required
from webapp.cases.models import Case
from webapp.paging import paginate
from webapp.services import db_session, services
from webapp.supervision import process_view
from webapp.supervision.summary_cache import summary_cache

bp = Blueprint("supervision_processes", __name__, url_prefix="/tilsyn/prosesser")
SUPERVISORS = ("system_owner", "coordinating_unit")
#: the heat levels' words, so colour is not the only cue (index = heat)
HEAT_LABELS = (_l("ingen venter"), _l("under 7 dager"), _l("7–29 dager"), _l("30–89 dager"),
               _l("90 dager eller mer"))
EPISODE_STATUS = {"running": _l("Pågår"), "incident": _l("Feil, venter på nytt forsøk"),
                  "completed": _l("Fullført"), "cancelled": _l("Avbrutt")}
MAX_VERSION = 2**31 - 1


def _log(case_ids) -> None:
    services().access_log.record_many(user_id=g.user.id, case_ids=sorted(set(case_ids)),
                                      at=services().clock.now(), page="supervision")


@bp.route("/")
@role_required(*SUPERVISORS)
def index():
    """The processes with their counts (a minute old at most, as the cockpit's counts)."""
    session, now = db_session(), services().clock.now()
    processes, counted_at = summary_cache().get("process_summaries",
                                                lambda: process_view.process_summaries(session), now)
    return render_template("supervision/processes.html", processes=processes, now=now, counted_at=counted_at)


def _version_param() -> int | None:
    """``?versjon=N``: a version number, or None for the newest; anything else is a 404."""
    raw = request.args.get("versjon")
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_VERSION:
        abort(404)
    return int(raw)


@bp.route("/<process_id>")
@role_required(*SUPERVISORS)
def process(process_id: str):
    session, now = db_session(), services().clock.now()
    counted_at = {}

    def counts(s, process_id_, definition_id):  # the grouped figures, a minute old at most
        value, counted_at["at"] = summary_cache().get(("element_counts", process_id_, definition_id),
                                                      lambda: process_view.element_counts(s, process_id_, definition_id),
                                                      now)
        return value

    shown = process_view.process_map(session, services().engine.specs, process_id, now, _version_param(),
                                     counts=counts)
    if shown is None:
        abort(404)
    config = {"xml": shown.xml, "elements": {
        e.bpmn_id: {"name": e.name or e.bpmn_id, "waiting": e.waiting, "median_days": e.median_days,
                    "longest_days": e.longest_days, "incidents": e.incidents, "heat": e.heat,
                    "url": url_for(".element", process_id=process_id, element_id=e.bpmn_id)}
        for e in shown.elements if e.in_diagram and (e.waiting or e.incidents)}}
    return render_template("supervision/process.html", shown=shown, config=config, counted_at=counted_at.get("at"),
                           versions=summary_cache().get(("versions", process_id),
                                                        lambda: process_view.versions(session, process_id), now)[0],
                           heat_labels=HEAT_LABELS)


@bp.route("/<process_id>/element/<element_id>")
@role_required(*SUPERVISORS)
def element(process_id: str, element_id: str):
    session, now = db_session(), services().clock.now()
    known = process_view.known_element(session, services().engine.specs, process_id, element_id)
    if known is None:
        abort(404)
    definition, name = known
    waiting = paginate(session, process_view.waiting_at(process_id, element_id), process_view.WAITING_KEYS,
                       request.args.get("etter"))
    incidents = paginate(session, process_view.incidents_at(process_id, element_id), process_view.INCIDENT_KEYS,
                         request.args.get("feil_etter"))
    waiting_rows = [(row[0], row[1]) for row in waiting.rows]
    incident_rows = [(row[0], row[1]) for row in incidents.rows]
    _log([case.id for _task, case in waiting_rows] + [case.id for _incident, case in incident_rows])
    return render_template("supervision/process_element.html", definition=definition, element_id=element_id,
                           name=name, waiting=waiting, waiting_rows=waiting_rows, incidents=incidents,
                           incident_rows=incident_rows, now=now)


@bp.route("/sak/<id:case_id>")
@role_required(*SUPERVISORS)
def case_episodes(case_id: int):
    session = db_session()
    case = session.execute(select(Case.id, Case.reference, Case.title, Case.status)
                           .where(Case.id == case_id)).first()
    if case is None:
        abort(404)
    found = process_view.case_episodes(session, services().engine.specs, case_id, request.args.get("etter"))
    _log([case_id])
    config = {"diagrams": {str(k): v for k, v in found.diagrams.items()},
              "episodes": [{"id": e.instance_id, "diagram": str(e.definition_id), "done": e.done,
                            "current": e.current} for e in found.episodes]}
    return render_template("supervision/case_episodes.html", case=case, found=found, config=config,
                           episode_status=EPISODE_STATUS)
