"""The coordinating unit's register of all groups (register data, never content) and the yearly
figures, on the page and as CSV. For the coordinating unit and the system owner only."""
from __future__ import annotations


from flask import Blueprint, Response, current_app, g, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l

from webapp.auth.access import role_required
from webapp.cases.models import CASE_STATUSES
from webapp.csv_export import csv_lines
from webapp.register.chart import plain_number, trend_panel
from webapp.register.figures import FiguresCache, YearFigures
from webapp.register.trend import TrendCache, record_trend_export
from webapp.register.operations import record_figures_export
from webapp.register.queries import register_page
from webapp.paging import PAGE_SIZE
from webapp.services import db_session, services

bp = Blueprint("register", __name__)
REGISTER_ROLES = ("coordinating_unit", "system_owner")
FIRST_YEAR = 2000
MAX_SEARCH = 100

KIND_LABELS = {
    "coordinator": _l("Koordinator"), "child_coordinator": _l("Barnekoordinator"),
    "relay_holder": _l("Stafettholder"), "health_nurse": _l("Helsesykepleier"), "school": _l("Skolen"),
}


def _read_year(errors: dict) -> int:
    today = services().clock.today()
    raw = (request.args.get("year") or "").strip()
    if not raw:
        return today.year
    if raw.isascii() and raw.isdigit() and FIRST_YEAR <= int(raw) <= today.year:
        return int(raw)
    errors["year"] = _("Skriv et årstall mellom %(first)s og %(last)s.", first=FIRST_YEAR, last=today.year)
    return today.year


def _read_filters() -> tuple[dict, dict]:
    """The query parameters, checked: (values as given, errors by field)."""
    values = {name: (request.args.get(name) or "").strip() for name in ("year", "status", "q")}
    errors: dict[str, str] = {}
    values["year_number"] = _read_year(errors)
    if values["status"] and values["status"] not in CASE_STATUSES:
        errors["status"] = _("Velg en status fra listen.")
    if len(values["q"]) > MAX_SEARCH:
        errors["q"] = _("Søket er for langt (maks %(n)s tegn).", n=MAX_SEARCH)
    return values, errors


def figure_rows(figures: YearFigures) -> list[tuple[str, int]]:
    """The figures as (Norwegian label, count), in the order they are reported (the page and the
    CSV). The plan figures count adopted plans in force in the year (``register.figures``)."""
    rows = [(_("Aktive ansvarsgrupper i året"), figures.active_groups),
            (_("Aktive ansvarsgrupper med individuell plan"), figures.with_individual_plan),
            (_("Aktive ansvarsgrupper med stafettlogg"), figures.with_relay_log)]
    rows += [(_("Koordinatorer: %(kind)s", kind=KIND_LABELS[kind]), count)
             for kind, count in figures.coordinators_by_kind.items()]
    rows += [(_("Personer som var koordinator"), figures.coordinator_persons),
             (_("Ansvarsgrupper startet i året"), figures.started),
             (_("Ansvarsgrupper avsluttet i året"), figures.closed)]
    return rows


def _figures(year: int):
    """A year's figures and when they were computed (``REGISTER_FIGURES_SECONDS`` per process)."""
    cache = current_app.extensions.get("register_figures")
    if cache is None:
        cache = current_app.extensions["register_figures"] = FiguresCache(
            current_app.config["REGISTER_FIGURES_SECONDS"])
    return cache.get(db_session(), year, services().clock.now())


def _trend(year: int):
    """A year's monthly figures and when they were computed (the same ``REGISTER_FIGURES_SECONDS``)."""
    cache = current_app.extensions.get("register_trend")
    if cache is None:
        cache = current_app.extensions["register_trend"] = TrendCache(current_app.config["REGISTER_FIGURES_SECONDS"])
    return cache.get(db_session(), year, services().clock.now())


def _page(values: dict, errors: dict, **context):
    return render_template("register/index.html", values=values, errors=errors, statuses=CASE_STATUSES,
                           kind_labels=KIND_LABELS, page_size=PAGE_SIZE, **context), 400 if errors else 200


@bp.get("/register")
@role_required(*REGISTER_ROLES)
def index():
    values, errors = _read_filters()
    if errors:
        return _page(values, errors)
    session = db_session()
    now = services().clock.now()
    page = register_page(session, now=now, status=values["status"] or None, search=values["q"] or None,
                         cursor=request.args.get("etter"))
    services().access_log.record_many(user_id=g.user.id, case_ids=[r.case_id for r in page.rows],
                                      page="register", at=now)
    year = values["year_number"]
    figures, computed_at = _figures(year)
    return _page(values, errors, rows=page.rows, page=page, year=year, figures=figure_rows(figures),
                 figures_at=computed_at, today=services().clock.today(), trend=trend_panel(*_trend(year)))


@bp.get("/register/tall.csv")
@role_required(*REGISTER_ROLES)
def figures_csv():
    values, errors = _read_filters()
    if errors:
        return _page(values, errors)
    year = values["year_number"]
    figures = figure_rows(_figures(year)[0])
    record_figures_export(services().db, user_id=g.user.id, year=year, at=services().clock.now())
    rows = [[_("År"), _("Tall"), _("Antall")]] + [[year, label, count] for label, count in figures]
    return Response(csv_lines(rows), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ansvarsgrupper-tall-{year}.csv"'})


@bp.get("/register/utvikling.csv")
@role_required(*REGISTER_ROLES)
def trend_csv():
    """The monthly figures of a year (the chart's numbers): statuses at each month's end, groups
    started and days from wish to active."""
    from webapp.templating import status_label
    values, errors = _read_filters()
    if errors:
        return _page(values, errors)
    year = values["year_number"]
    trend = _trend(year)[0]
    record_trend_export(services().db, user_id=g.user.id, year=year, at=services().clock.now())
    rows = [[_("År"), _("Måned")] + [status_label(s) for s in CASE_STATUSES]
            + [_("Grupper som ble aktive"), _("Median dager fra ønske til aktiv"),
               _("90-persentil dager fra ønske til aktiv")]]
    rows += [[year, m.month] + [m.by_status.get(s, 0) for s in CASE_STATUSES]
             + [m.started] + ["" if days is None else plain_number(days) for days in (m.median_days, m.p90_days)]
             for m in trend.months]
    return Response(csv_lines(rows), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="ansvarsgrupper-utvikling-{year}.csv"'})
