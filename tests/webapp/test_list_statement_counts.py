"""List pages run a fixed number of SQL statements however many rows they list, and show one
page at a time (issue 11): the inbox, the register and the supervision page. Counts, never time."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import deploy_test_diagrams, login_client
from tests.statements import counting
from tests.webapp.cases.helpers import municipality
from webapp import paging
from webapp.cases.operations import add_member, open_case
from webapp.engine.models import Incident, OpenTask

PAGES = {"kari": "/oppgaver", "ke": "/register", "sara": "/tilsyn/"}
#: what each page runs today (the inbox: the user, the page's step ids, their steps and cases, the
#: case filter's ids and references; the register: the page, its count, six column families, a
#: setting and the year's figures; the cockpit: the user, two settings the rules read, the page of
#: the rules' union, the count per rule, the filters' units, coordinators and processes, the saved
#: views, the access log, and the newest version of each process whose steps the page names); a
#: change that adds statements should say why here
MOST = {"/oppgaver": 6, "/register": 16, "/tilsyn/": 14}


def _add_cases(services, users, count: int) -> None:
    """``count`` cases coordinated by Kari, each with an open step (due in 14 days) and an
    incident on its episode."""
    for _ in range(count):
        with services.db.transaction() as s:
            case = open_case(s, "Testsak", at=services.clock.now())
            add_member(s, case, "Kari Koordinator", "koordinator", at=services.clock.now(), user_id=users["kari"])
            case_id = case.id
        started = services.engine.start(case_id, "two_steps", actor_id=users["kari"])
        with services.db.transaction() as s:
            s.add(Incident(instance_id=started.instance_id, status="open", task_spec="first", pending={},
                           message="failed", created_at=services.clock.now()))


def _statements(app, services) -> dict[str, int]:
    counts = {}
    for username, url in PAGES.items():
        client = login_client(app, username)
        client.get(url)  # warm: caches of specs and step names
        with counting(services.db.engine) as counted:
            response = client.get(url)
        assert response.status_code == 200, (url, response.text[:500])
        counts[url] = len(counted)
    return counts


def test_list_pages_run_the_same_statements_for_2_and_for_7_cases(app, services):
    users = municipality(services)
    deploy_test_diagrams(services)
    _add_cases(services, users, 2)
    services.clock.set(services.clock.now() + timedelta(days=30))  # the steps are overdue: supervision lists them
    few = _statements(app, services)
    _add_cases(services, users, 5)
    services.clock.set(services.clock.now() + timedelta(days=30))
    many = _statements(app, services)
    assert few == many
    assert all(many[url] <= MOST[url] for url in MOST), many


@pytest.mark.parametrize("username, url, row_link", [
    ("kari", "/oppgaver", r'href="/oppgaver/(\d+/[0-9a-f-]+)"'),
    ("ke", "/register", r'<th scope="row"><a class="ds-link" href="/saker/(\d+)"'),
])
def test_a_list_is_paged_by_keyset_without_gaps_or_repeats(app, services, monkeypatch, username, url, row_link):
    users = municipality(services)
    deploy_test_diagrams(services)
    _add_cases(services, users, 7)
    monkeypatch.setattr(paging, "PAGE_SIZE", 3)
    client = login_client(app, username)
    seen, pages, next_url = [], 0, url
    while next_url:
        page = client.get(next_url)
        assert page.status_code == 200
        links = re.findall(row_link, page.text)
        assert 0 < len(links) <= 3
        seen += links
        pages += 1
        following = re.search(r'href="([^"]+)">Neste side<', page.text)
        next_url = following.group(1).replace("&amp;", "&") if following else None
        assert next_url is None or "etter=" in next_url
    assert pages == 3 and len(seen) == len(set(seen))
    with services.db.session() as s:
        if url == "/oppgaver":
            expected = len(s.scalars(select(OpenTask.id).where(OpenTask.assignee_id == users["kari"])).all())
        else:
            expected = 7
    assert len(seen) == expected


def test_a_malformed_cursor_is_the_first_page(app, services):
    users = municipality(services)
    deploy_test_diagrams(services)
    _add_cases(services, users, 1)
    client = login_client(app, "ke")
    for cursor in ("x", "W10", "WyJhIiwxXQ", "WyJhIiwiMSJd", "A" * 600):
        response = client.get(f"/register?etter={cursor}")
        assert response.status_code == 200 and 'href="/saker/' in response.text
    assert login_client(app, "sara").get("/tilsyn/?feil_etter=bad&steg_etter=WzFd").status_code == 200
