"""Charts drawn on the server as SVG strings (no JavaScript): a stacked bar chart and a line chart,
plus the register's monthly trend put into them (``trend_panel``).

Accessible by construction: ``<svg role="img" aria-labelledby>`` with its ``<title>`` and
``<desc>``; every series has a colour with at least 3:1 contrast against white (WCAG 1.4.11) *and*
a second cue — a fill pattern for bars, a dash and a marker shape for lines — shown again in the
legend; text is near-black. The template puts the same numbers in a table beside the chart. Every
text that goes into the markup is escaped here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

from flask_babel import format_decimal, gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape

from webapp.cases.models import CASE_STATUSES
from webapp.register.trend import OPEN_STATUSES, YearTrend

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 24, 36
TEXT = "#1a1a1a"  # 17:1 on white
GRID = "#8c8c8c"
#: (colour, pattern, line dash, marker): every colour at least 5:1 on white
STYLES = (
    ("#1f5f99", "solid", None, "circle"),
    ("#a34700", "stripes", "8 4", "square"),
    ("#2d6e3e", "dots", "2 3", "triangle"),
    ("#6b3fa0", "grid", "10 3 2 3", "diamond"),
)

SHORT_MONTHS = (_l("jan"), _l("feb"), _l("mar"), _l("apr"), _l("mai"), _l("jun"), _l("jul"), _l("aug"),
                _l("sep"), _l("okt"), _l("nov"), _l("des"))
MONTHS = (_l("januar"), _l("februar"), _l("mars"), _l("april"), _l("mai"), _l("juni"), _l("juli"), _l("august"),
          _l("september"), _l("oktober"), _l("november"), _l("desember"))


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def plain_number(value: float) -> str:
    """A whole number as is, anything else with one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _attrs(**values) -> str:
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(v)}"' for k, v in values.items() if v is not None)


def _pattern(pid: str, colour: str, kind: str) -> str:
    """A fill: the colour with white marks (none for ``solid``)."""
    marks = {
        "solid": "",
        "stripes": '<path d="M0 8 L8 0 M-2 2 L2 -2 M6 10 L10 6" stroke="#fff" stroke-width="2"/>',
        "dots": '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
        "grid": '<path d="M0 4 H8 M4 0 V8" stroke="#fff" stroke-width="1.4"/>',
    }[kind]
    return (f'<pattern{_attrs(id=pid)} width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8"{_attrs(fill=colour)}/>{marks}</pattern>')


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5"{_attrs(fill=colour)}/>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8"{_attrs(fill=colour)}/>'
    if shape == "triangle":
        corners = ((x, y - 5), (x + 5, y + 4), (x - 5, y + 4))
    else:  # diamond
        corners = ((x, y - 5.5), (x + 5.5, y), (x, y + 5.5), (x - 5.5, y))
    path = "M" + " L".join(f"{cx:.1f} {cy:.1f}" for cx, cy in corners) + " Z"
    return f'<path d="{path}"{_attrs(fill=colour)}/>'


def nice_top(value: float) -> tuple[float, float]:
    """(axis maximum, tick step): a whole, round step (1, 2, 2.5 or 5 times a power of ten) that
    reaches ``value`` in at most four steps."""
    if value <= 0:
        return 4.0, 1.0
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw and float(m * power).is_integer())
    step = max(float(step), 1.0)
    return step * math.ceil(value / step), step


def _frame(chart_id: str, title: str, desc: str, categories: Sequence[str], top: float, step: float,
           number: Callable[[float], str], defs: str = "") -> tuple[list[str], Callable[[float], float], float]:
    """The opening of the SVG, the y axis with its grid and the category labels; returns the
    parts, the y scale and the width of one category."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))

    def y(value: float) -> float:
        return TOP + plot_h - (value / top) * plot_h

    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" role="img"'
        f'{_attrs(aria_labelledby=f"{chart_id}-title {chart_id}-desc")}'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' style="max-width:{WIDTH}px;height:auto;display:block" font-family="inherit" font-size="13">',
        f'<title{_attrs(id=f"{chart_id}-title")}>{escape(title)}</title>',
        f'<desc{_attrs(id=f"{chart_id}-desc")}>{escape(desc)}</desc>',
    ]
    if defs:
        parts.append(f"<defs>{defs}</defs>")
    tick = 0.0
    while tick <= top + 1e-9:
        ty = y(tick)
        dash = "2 3" if tick else None  # the zero line solid
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"'
                     f'{_attrs(stroke=GRID, stroke_dasharray=dash)} stroke-width="{1 if tick else 1.5}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end"{_attrs(fill=TEXT)}>'
                     f'{escape(number(tick))}</text>')
        tick += step
    for i, label in enumerate(categories):
        parts.append(f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle"'
                     f'{_attrs(fill=TEXT)}>{escape(label)}</text>')
    return parts, y, slot


def legend(chart_id: str, series: Sequence[Series], kind: str) -> Markup:
    """The legend as an HTML list: each series' label as text after its swatch (the same pattern,
    or dash and marker; hidden from screen readers, which read the label)."""
    items = []
    for i, s in enumerate(series):
        colour, pattern, dash, marker = STYLES[i % len(STYLES)]
        if kind == "bars":
            pid = f"{chart_id}-legend-{i}"
            swatch = (f'<defs>{_pattern(pid, colour, pattern)}</defs>'
                      f'<rect x="1" y="1" width="22" height="14"{_attrs(fill=f"url(#{pid})")} stroke="{TEXT}"'
                      f' stroke-width="1"/>')
        else:
            swatch = (f'<line x1="1" x2="27" y1="8" y2="8"{_attrs(stroke=colour, stroke_dasharray=dash)}'
                      f' stroke-width="2.5"/>{_marker(marker, 14, 8, colour)}')
        width = 24 if kind == "bars" else 28
        items.append(f'<li style="display:inline-flex;align-items:center;gap:.4em;margin-right:1.2em">'
                     f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="16" aria-hidden="true"'
                     f' focusable="false">{swatch}</svg>{escape(s.label)}</li>')
    return Markup(f'<ul{_attrs(id=f"{chart_id}-legend")} style="list-style:none;padding:0;margin:.5em 0 0">'
                  f'{"".join(items)}</ul>')


def stacked_bars(chart_id: str, title: str, desc: str, categories: Sequence[str], series: Sequence[Series],
                 number: Callable[[float], str] = plain_number) -> Markup:
    """One bar per category, the series stacked in order from the bottom; the total above each
    bar. Missing values count as 0."""
    totals = [sum((s.values[i] or 0) for s in series) for i in range(len(categories))]
    top, step = nice_top(max(totals, default=0))
    defs = "".join(_pattern(f"{chart_id}-p{i}", STYLES[i % len(STYLES)][0], STYLES[i % len(STYLES)][1])
                   for i in range(len(series)))
    parts, y, slot = _frame(chart_id, title, desc, categories, top, step, number, defs)
    bar = slot * 0.6
    for i, total in enumerate(totals):
        x = LEFT + slot * i + (slot - bar) / 2
        base = 0.0
        for n, s in enumerate(series):
            value = s.values[i] or 0
            if value <= 0:
                continue
            y_top, y_bottom = y(base + value), y(base)
            parts.append(f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar:.1f}" height="{y_bottom - y_top:.1f}"'
                         f'{_attrs(fill=f"url(#{chart_id}-p{n})")} stroke="#fff" stroke-width="1"/>')
            base += value
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y(total) - 5:.1f}" text-anchor="middle"'
                     f'{_attrs(fill=TEXT)} font-weight="bold">{escape(number(total))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts)) + legend(chart_id, series, "bars")


def lines(chart_id: str, title: str, desc: str, categories: Sequence[str], series: Sequence[Series],
          number: Callable[[float], str] = plain_number) -> Markup:
    """One line per series over the categories, broken where a value is missing; a marker and the
    value at each point."""
    values = [v for s in series for v in s.values if v is not None]
    top, step = nice_top(max(values, default=0))
    parts, y, slot = _frame(chart_id, title, desc, categories, top, step, number)
    for n, s in enumerate(series):
        colour, _pattern_kind, dash, marker = STYLES[n % len(STYLES)]
        points = [(LEFT + slot * (i + 0.5), None if v is None else y(v), v) for i, v in enumerate(s.values)]
        run: list[tuple[float, float]] = []
        for i, v in enumerate(list(s.values) + [None]):
            if v is not None:
                run.append(points[i][:2])
                continue
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke-width="2.5"{_attrs(stroke=colour, stroke_dasharray=dash)}'
                             f' points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in run)}"/>')
            run = []
        for px, py, v in points:
            if v is None:
                continue
            parts.append(_marker(marker, px, py, colour))
            parts.append(f'<text x="{px:.1f}" y="{py - 9:.1f}" text-anchor="middle"{_attrs(fill=TEXT)}>'
                         f'{escape(number(v))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts)) + legend(chart_id, series, "lines")


@dataclass(frozen=True)
class TrendPanel:
    """What ``register/_trend.html`` shows: the two charts and the numbers for their tables."""
    year: int
    months: list[str]
    #: (status label, counts per month as text), every status
    status_rows: list[tuple[str, list[str]]]
    #: (label, values per month as text, "–" for none): groups started, median and p90 days
    wait_rows: list[tuple[str, list[str]]]
    status_chart: Markup
    wait_chart: Markup
    #: when the numbers were computed (they may come from ``TrendCache``)
    computed_at: datetime | None = None


def trend_panel(trend: YearTrend, computed_at: datetime | None = None) -> TrendPanel | None:
    """The trend as charts with Norwegian (or the reader's) labels; None before the year began."""
    from webapp.templating import status_label

    if not trend.months:
        return None

    def number(value) -> str:  # the reader's digits: "1 234", "12,5" in bokmål
        return "–" if value is None else format_decimal(value, format="#,##0.#")

    months = [str(MONTHS[m.month - 1]) for m in trend.months]
    short = [str(SHORT_MONTHS[m.month - 1]) for m in trend.months]
    status_rows = [(status_label(s), [number(m.by_status.get(s, 0)) for m in trend.months]) for s in CASE_STATUSES]
    open_series = [Series(status_label(s), [m.by_status.get(s, 0) for m in trend.months]) for s in OPEN_STATUSES]
    median = Series(_("Median"), [m.median_days for m in trend.months])
    p90 = Series(_("90-persentil"), [m.p90_days for m in trend.months])
    year = trend.year
    status_chart = stacked_bars(
        f"trend-status-{year}", _("Grupper per status ved utgangen av hver måned i %(year)s", year=year),
        _("Stolpediagram: for hver måned antall grupper som var aktive, under etablering, ventet på samtykke "
          "eller var registrert som ønske ved månedens slutt (inneværende måned: nå), stablet nedenfra i den "
          "rekkefølgen. Tallet over stolpen er summen. Alle tallene, også for avsluttede grupper, står i "
          "tabellen under diagrammet."), short, open_series, number)
    wait_chart = lines(
        f"trend-wait-{year}", _("Dager fra ønske til aktiv gruppe i %(year)s", year=year),
        _("Linjediagram: for grupper som ble aktive i hver måned, median og 90-persentil av antall dager fra "
          "ønsket ble registrert til gruppen ble aktiv. Måneder uten nye aktive grupper har ikke noe punkt. "
          "Tallene står i tabellen under diagrammet."), short, [median, p90], number)
    wait_rows = [(_("Grupper som ble aktive"), [number(m.started) for m in trend.months]),
                 (_("Median dager fra ønske til aktiv"), [number(m.median_days) for m in trend.months]),
                 (_("90-persentil dager fra ønske til aktiv"), [number(m.p90_days) for m in trend.months])]
    return TrendPanel(year, months, status_rows, wait_rows, status_chart, wait_chart, computed_at)
