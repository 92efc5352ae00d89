"""The yearly figures over time (issue 13): statuses at each month's end (Oslo) and days from wish
to active group, computed in a fixed number of queries; drawn as SVG with a table and a CSV."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy import select

from tests.conftest import login_client
from tests.statements import counting
from tests.webapp.register.conftest import MARKER, PASSWORD, _group, oslo
from webapp.audit.models import AuditEvent
from webapp.auth.models import User
from webapp.cases.models import CASE_STATUSES
from webapp.register.chart import Series, lines, nice_top, stacked_bars
from webapp.register.trend import TrendCache, month_ends, percentile, year_trend

#: the seed's statuses at the end of each month of 2026 (see tests/webapp/register/conftest.py)
STATUSES_2026 = {
    1: {"active": 2, "establishing": 1, "closed": 2},  # A, J; C; D (1 Jan 00:30) and E
    2: {"active": 3, "establishing": 1, "closed": 2},  # C active 1 Feb; B establishing
    3: {"active": 4, "closed": 2},  # B active 1 Mar
    4: {"active": 4, "closed": 2},
    5: {"requested": 1, "active": 4, "closed": 2},  # F's wish
    6: {"requested": 1, "active": 4, "closed": 2},
    7: {"requested": 1, "active": 4, "closed": 2},
    8: {"requested": 1, "active": 4, "closed": 2},
    9: {"requested": 1, "awaiting_consent": 1, "active": 4, "closed": 2},  # G's coordinator
    10: {"requested": 1, "awaiting_consent": 1, "active": 4, "closed": 2},
    # C closed 15 Nov; C2 establishing (active 1 Dec 12:00)
    11: {"requested": 1, "awaiting_consent": 1, "establishing": 1, "active": 3, "closed": 3},
    # C2 active; I establishing until 1 Jan 2027 00:30 Oslo (still 2026 in UTC)
    12: {"requested": 1, "awaiting_consent": 1, "establishing": 1, "active": 4, "closed": 3},
}


def _full(counts: dict[str, int]) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in CASE_STATUSES}


def test_statuses_at_each_month_end_follow_the_histories(services, seed):
    with services.db.session() as s:
        trend = year_trend(s, 2026, services.clock.today())
    assert [m.month for m in trend.months] == list(range(1, 13))
    assert {m.month: m.by_status for m in trend.months} == {k: _full(v) for k, v in STATUSES_2026.items()}


def test_days_from_wish_to_active_by_the_oslo_month_of_activation(services, seed):
    with services.db.session() as s:
        trend = year_trend(s, 2026, services.clock.today())
        following = year_trend(s, 2027, services.clock.today())
    waits = {m.month: (m.started, m.median_days, m.p90_days) for m in trend.months if m.started}
    # C: 10 Jan -> 1 Feb, B: 1 Feb -> 1 Mar, C2: 20 Nov -> 1 Dec; I (1 Jan 2027 00:30 Oslo) is 2027's
    assert waits == {2: (1, 22.0, 22.0), 3: (1, 28.0, 28.0), 12: (1, 11.0, 11.0)}
    assert all(m.median_days is None and m.p90_days is None for m in trend.months if not m.started)
    # 2027 so far (the clock stands at 1 March 2027): January to March; I started in January
    assert [m.month for m in following.months] == [1, 2, 3]
    assert [(m.started, m.median_days) for m in following.months] == [(1, 22.0), (0, None), (0, None)]
    assert following.months[0].by_status == _full({"requested": 1, "awaiting_consent": 1, "active": 5,
                                                   "closed": 3})


def test_median_and_p90_interpolate_like_percentile_cont(services, seed):
    """Four groups started in June 2026 after 10, 20, 40 and 70 days: the median is 30, the 90th
    percentile 40 + 0.7 * 30 = 61 (PostgreSQL's percentile_cont; SQLite computes the same in Python)."""
    with services.db.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        for n, days in enumerate((10, 20, 40, 70)):
            active = oslo(2026, 6, 15)
            _group(s, users, f"Juni {n}", date(2000, 1, n + 1), wished=active - timedelta(days=days),
                   coordinator="per", appointed=active - timedelta(days=days - 1), active=active)
    with services.db.session() as s:
        june = year_trend(s, 2026, services.clock.today()).months[5]
    assert (june.started, june.median_days, june.p90_days) == (4, 30.0, 61.0)
    assert june.by_status["active"] == 4 + 4
    assert percentile([10, 20, 40, 70], 0.5) == 30.0 and percentile([10, 20, 40, 70], 0.9) == 61.0
    assert percentile([5], 0.9) == 5.0 and percentile([], 0.5) is None


def test_a_year_takes_three_queries_and_the_cache_none(services, seed):
    cache = TrendCache(3600)
    with services.db.session() as s:
        with counting(services.db.engine) as first:
            trend, at = cache.get(s, 2026, services.clock.now())
        with counting(services.db.engine) as again:
            same, same_at = cache.get(s, 2026, services.clock.now() + timedelta(minutes=5))
        assert len(first) == 3, first.report()
        assert len(again) == 0 and (same, same_at) == (trend, at)
        with counting(services.db.engine) as uncached:
            TrendCache(0).get(s, 2026, services.clock.now())
        assert len(uncached) == 3


def test_month_ends_are_midnight_in_oslo():
    ends = month_ends(2026)
    assert ends[0] == datetime.fromisoformat("2026-02-01T00:00:00+01:00")
    assert ends[2] == datetime.fromisoformat("2026-04-01T00:00:00+02:00")  # summer time
    assert ends[11] == datetime.fromisoformat("2027-01-01T00:00:00+01:00")


def _svg_texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_stacked_bars_are_accessible_and_escape_every_text():
    svg = str(stacked_bars("c1", "Tittel <b>", "Beskrivelse & mer", ["jan", "<feb>"],
                           [Series("Aktiv <script>", [3, 4]), Series("Venter", [1, None])]))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="c1-title c1-desc"')
    assert '<title id="c1-title">Tittel &lt;b&gt;</title>' in svg
    assert '<desc id="c1-desc">Beskrivelse &amp; mer</desc>' in svg
    assert "<script>" not in svg and "Aktiv &lt;script&gt;" in svg and "&lt;feb&gt;" in svg
    # each series has its own pattern (colour is not the only cue), in the bars and in the legend
    stripes = svg.split('<pattern id="c1-p1"')[1].split("</pattern>")[0]
    assert 'id="c1-p0"' in svg and 'stroke="#fff"' in stripes  # white stripes over the second colour
    assert svg.count('fill="url(#c1-p0)"') == 2 and svg.count('fill="url(#c1-p1)"') == 1
    assert 'fill="url(#c1-legend-0)"' in svg and 'aria-hidden="true"' in svg
    assert re.findall(r'font-weight="bold">([^<]*)</text>', svg) == ["4", "4"]  # the totals above the bars
    assert _svg_texts(svg)[:3] == ["0", "1", "2"]  # the y axis


def test_lines_break_where_a_value_is_missing_and_mark_every_point():
    svg = str(lines("c2", "T", "D", ["a", "b", "c", "d"], [Series("Median", [1, 2, None, 4]),
                                                            Series("p90", [2, 3, 5, 6.5])]))
    assert svg.count("<polyline") == 2  # the median's run a-b (d alone is a point), p90 in one piece
    assert 'stroke-dasharray="8 4"' in svg  # the second series is dashed
    assert svg.count("<circle") == 3 + 1  # the median's three points + its legend marker
    assert "6.5" in _svg_texts(svg)
    assert isinstance(lines("c3", "T", "D", ["a"], [Series("x", [None])]), Markup)  # nothing to draw: no error


def test_nice_axis_tops():
    assert nice_top(0) == (4.0, 1.0)
    assert nice_top(7) == (8.0, 2.0)
    assert nice_top(95_000) == (100_000.0, 25_000.0)
    assert nice_top(9) == (10.0, 5.0)  # never a step of 2.5 groups


def test_register_page_shows_the_charts_with_tables_for_the_unit(app, seed):
    page = login_client(app, "ke", PASSWORD).get("/register?year=2026")
    assert page.status_code == 200
    text = page.text
    assert 'id="h-trend"' in text
    assert 'role="img" aria-labelledby="trend-status-2026-title trend-status-2026-desc"' in text
    assert 'aria-labelledby="trend-wait-2026-title trend-wait-2026-desc"' in text
    assert "<details>" in text and "<summary>" in text
    table = text.split('id="h-trend-status"')[1].split("</table>")[0]
    active = re.search(r'<th scope="row">Aktiv</th>((?:<td>[^<]*</td>)+)', table).group(1)
    assert re.findall(r"<td>([^<]*)</td>", active) == [str(STATUSES_2026[m].get("active", 0)) for m in range(1, 13)]
    assert 'href="/register/utvikling.csv?year=2026"' in text
    assert MARKER not in text
    # the system owner sees the register, and with it the chart
    assert 'id="h-trend"' in login_client(app, "sara", PASSWORD).get("/register?year=2026").text


def test_trend_csv_has_every_month_and_is_audited(app, services, seed):
    response = login_client(app, "ke", PASSWORD).get("/register/utvikling.csv?year=2026")
    assert response.status_code == 200 and response.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["År", "Måned"] and header[-3:] == [
        "Grupper som ble aktive", "Median dager fra ønske til aktiv", "90-persentil dager fra ønske til aktiv"]
    assert len(body) == 12
    active = header.index("Aktiv")
    assert [int(r[active]) for r in body] == [STATUSES_2026[m].get("active", 0) for m in range(1, 13)]
    assert body[1][-3:] == ["1", "22", "22"] and body[3][-3:] == ["0", "", ""]
    assert MARKER not in response.text
    with services.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.kind == "register_trend_exported"))
    assert event is not None and event.detail["year"] == 2026


def test_trend_csv_refuses_others_and_bad_years(app, seed):
    assert login_client(app, "kari", PASSWORD).get("/register/utvikling.csv?year=2026").status_code in (403, 404)
    bad = login_client(app, "ke", PASSWORD).get("/register/utvikling.csv?year=tjue")
    assert bad.status_code == 400 and "Skriv et årstall" in bad.text
