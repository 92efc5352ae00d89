"""The case's access log page: newest first, keyset-paginated (100 a page), a fixed number of
queries however long the log is, and bad cursors show the first page."""
import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import event, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, establish, municipality
from webapp.audit.models import AccessLogEntry

SEEDED = 250
BASE = datetime(2020, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def users(services):
    return municipality(services)


def seed_log(services, case_id: int, user_id: int, n: int = SEEDED) -> list[str]:
    """n old rows labelled p000.. (three at a time share one time, so the cursor's id matters);
    returns their labels newest first."""
    with services.db.transaction() as s:
        for i in range(n):
            s.add(AccessLogEntry(case_id=case_id, user_id=user_id, page=f"p{i:03d}",
                                 at=BASE + timedelta(minutes=i // 3)))
            s.flush()  # ids ascend with i
    return [f"p{i:03d}" for i in reversed(range(n))]


def rows_of(text: str) -> list[str]:
    body = text.split("<tbody>")[1].split("</tbody>")[0]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def labels(text: str) -> list[str]:
    return re.findall(r"<td>(p\d{3})</td>", text)


def older_link(text: str) -> str | None:
    match = re.search(r'<a class="ds-link" href="([^"]+)" rel="next">Eldre</a>', text)
    return unescape(match.group(1)) if match else None


@pytest.fixture
def logged_case(services, users):
    case_id = establish(services, users, until="active")
    return case_id, seed_log(services, case_id, users["siri"])


def test_pages_of_100_newest_first_following_the_cursor(app, services, users, logged_case):
    case_id, expected = logged_case
    kari = login_client(app, "kari", PASSWORD)
    with services.db.session() as s:
        # rows written today (the establishment's reads), newer than every seeded row
        today = len(s.scalars(select(AccessLogEntry.id).where(
            AccessLogEntry.case_id == case_id, AccessLogEntry.page.not_like("p%"))).all())
    sizes, seen, pages, first_today = [], [], 0, None
    url = f"/saker/{case_id}/innsyn"
    while url:
        page = kari.get(url)
        assert page.status_code == 200
        pages += 1
        sizes.append(len(rows_of(page.text)))
        seen += labels(page.text)
        if first_today is None:
            first_today = len(rows_of(page.text)) - len(labels(page.text))
        assert ("Nyeste" in page.text) == (pages > 1)
        url = older_link(page.text)
        assert pages <= 5
    # the first page also holds today's rows (and, where the database shows it already, its own
    # visit); later visits are newer than the cursor and do not shift the older pages
    assert first_today in (today, today + 1)
    assert sizes == [100, 100, SEEDED + first_today - 200]
    assert seen == expected  # every seeded row once, newest first, ties by id
    assert rows_of(kari.get(f"/saker/{case_id}/innsyn").text)[0].endswith(" Kari Koordinator Innsynslogg")


@pytest.mark.parametrize("cursor", [
    "", "abc", ",", "2020-03-01T12:00:00,5",  # no time zone
    "2020-03-01T12:00:00+00:00,abc", "2020-03-01T12:00:00+00:00,-1", "2020-03-01T12:00:00+00:00,0",
    "2020-03-01T12:00:00+00:00,99999999999999999999999", "0001-01-01T00:00:00+01:00,1",
    "9999-12-31T23:59:59-14:00,1", "2020-13-01T00:00:00+00:00,1", "x,1,2", "%00", "2020-03-01T12:00:00+00:00",
])
def test_a_bad_cursor_shows_the_first_page(app, users, logged_case, cursor):
    case_id, expected = logged_case
    kari = login_client(app, "kari", PASSWORD)
    page = kari.get(f"/saker/{case_id}/innsyn", query_string={"before": cursor})
    assert page.status_code == 200
    assert labels(page.text)[0] == expected[0] and "Nyeste" not in page.text
    assert older_link(page.text)


def test_a_cursor_with_another_offset_means_the_same_moment(app, users, logged_case):
    case_id, expected = logged_case
    kari = login_client(app, "kari", PASSWORD)
    # p005 is the last of the three rows at BASE + 1 minute; p004 and p003 share its time
    at = (BASE + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=1))).isoformat()
    with kari.application.extensions["ansvarsgruppe"].db.session() as s:
        p004 = s.scalar(select(AccessLogEntry.id).where(AccessLogEntry.case_id == case_id,
                                                        AccessLogEntry.page == "p004"))
    page = kari.get(f"/saker/{case_id}/innsyn", query_string={"before": f"{at},{p004}"})
    assert labels(page.text) == ["p003", "p002", "p001", "p000"]
    assert older_link(page.text) is None and "Nyeste" in page.text


def test_a_fixed_number_of_queries_however_long_the_log(app, services, users, logged_case):
    long_case, _expected = logged_case
    short_case = establish(services, users, until="active", born="2018-01-02")
    kari = login_client(app, "kari", PASSWORD)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def queries(url):
        statements.clear()
        event.listen(services.db.engine, "before_cursor_execute", count)
        try:
            assert kari.get(url).status_code == 200
        finally:
            event.remove(services.db.engine, "before_cursor_execute", count)
        return len(statements)

    kari.get(f"/saker/{short_case}/innsyn")  # warm up whatever is cached once
    short = queries(f"/saker/{short_case}/innsyn")
    first = queries(f"/saker/{long_case}/innsyn")
    second = queries(older_link(kari.get(f"/saker/{long_case}/innsyn").text))
    assert short == first == second > 0
