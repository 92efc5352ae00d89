"""The supervisors' process view (/tilsyn/prosesser, issue 13): steps waiting per element with
median and longest wait, incidents on their element, the cases at one element, one case's
episodes with the path taken. Register data only, and every case listed is access-logged."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import login_client
from tests.statements import counting
from tests.webapp.cases.helpers import APPOINT, complete, municipality, wish
from webapp.audit.models import AccessLogEntry
from webapp.cases.models import Case
from webapp.engine.models import Incident, ProcessInstance
from webapp.supervision import process_view

SECRET = "Emma er redd for skolestart"


def _config(page, element_id="process-map-config") -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page.text, re.S)
    assert match, "the page has no map configuration"
    return json.loads(match.group(1))


def _logged(services) -> list[tuple[int, int]]:
    with services.db.session() as s:
        return [(r.user_id, r.case_id) for r in s.scalars(
            select(AccessLogEntry).where(AccessLogEntry.page == "supervision").order_by(AccessLogEntry.id))]


def _waiting_cases(services, users, ages_in_days: list[int]) -> list[int]:
    """Wishes registered so that their appointment steps have waited ``ages_in_days`` (and an hour:
    the clock keeps running, so whole days stay whole) now."""
    case_ids, start = [], services.clock.now()
    for age in sorted(ages_in_days, reverse=True):
        services.clock.set(start + timedelta(days=max(ages_in_days) - age))
        case_ids.append(wish(services, users, name=f"Person {age}"))
    services.clock.set(start + timedelta(days=max(ages_in_days), hours=1))
    return case_ids


def _fail(services, case_id, task_spec, message=SECRET) -> None:
    with services.db.transaction() as s:
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.case_id == case_id).limit(1))
        s.add(Incident(instance_id=instance.id, status="open", task_spec=task_spec, pending={"data": SECRET},
                       message=message, created_at=services.clock.now()))


def test_waits_per_element_have_count_median_and_longest(app, services):
    users = municipality(services)
    _waiting_cases(services, users, [10, 4])
    with services.db.session() as s:
        found = process_view.waits(s, "establishment", services.clock.now())
    assert found["appoint"].waiting == 2
    assert found["appoint"].median_days == 7  # between 10 and 4 days
    assert found["appoint"].longest_days == 10
    services.clock.set(services.clock.now() + timedelta(days=2))
    wish(services, users, name="Ny Person")  # a third, just registered: 12, 6 and 0 days
    with services.db.session() as s:
        with counting(services.db.engine) as counted:
            found = process_view.waits(s, "establishment", services.clock.now())
    assert len(counted) == 1  # one grouped query, however many steps wait
    assert (found["appoint"].waiting, found["appoint"].median_days, found["appoint"].longest_days) == (3, 6, 12)
    assert found["appoint"].heat == 1  # a median under 7 days


def test_process_page_shows_the_figures_on_the_diagram_and_in_the_table(app, services):
    users = municipality(services)
    _waiting_cases(services, users, [40, 35, 2])
    ke = login_client(app, "ke")
    page = ke.get("/tilsyn/prosesser/establishment")
    assert page.status_code == 200
    config = _config(page)
    assert "<bpmn:definitions" in config["xml"] or "definitions" in config["xml"]
    appoint = config["elements"]["appoint"]
    assert (appoint["waiting"], appoint["median_days"], appoint["longest_days"]) == (3, 35, 40)
    assert appoint["heat"] == 3  # a median of 30 to 89 days
    assert appoint["url"] == "/tilsyn/prosesser/establishment/element/appoint"
    assert "consent" not in config["elements"]  # nobody waits there
    # the table gives the same to keyboard and screen-reader users
    row = re.search(r"Oppnevn koordinator</th>(.*?)</tr>", page.text, re.S).group(1)
    assert ">3<" in row and "35 dager" in row and "40 dager" in row and "30–89 dager" in row
    assert "Bedre samarbeid" not in page.text  # the wish is content
    assert _logged(services) == []  # no case is listed on this page


def test_list_of_processes_counts_waiting_steps_and_incidents(app, services):
    users = municipality(services)
    case_ids = _waiting_cases(services, users, [5, 1])
    _fail(services, case_ids[0], "appoint")
    with services.db.session() as s:
        summaries = {p.process_id: p for p in process_view.process_summaries(s)}
    assert (summaries["establishment"].active, summaries["establishment"].waiting,
            summaries["establishment"].incidents) == (2, 2, 1)
    assert summaries["meeting"].waiting == 0
    page = login_client(app, "sara").get("/tilsyn/prosesser/")
    assert page.status_code == 200
    assert 'href="/tilsyn/prosesser/establishment"' in page.text and "5 dager" in page.text


def test_incidents_are_marked_on_their_element_without_their_message(app, services):
    users = municipality(services)
    case_id = _waiting_cases(services, users, [3])[0]
    _fail(services, case_id, "record_appointment")
    _fail(services, case_id, None)
    ke = login_client(app, "ke")
    page = ke.get("/tilsyn/prosesser/establishment")
    config = _config(page)
    assert config["elements"]["record_appointment"]["incidents"] == 1
    assert config["elements"]["record_appointment"]["waiting"] == 0
    assert "Åpne feil som ikke hører til et element: 1" in page.text
    assert SECRET not in page.text
    element = ke.get("/tilsyn/prosesser/establishment/element/record_appointment")
    assert element.status_code == 200
    with services.db.session() as s:
        reference = s.get(Case, case_id).reference
    assert reference in element.text
    assert SECRET not in element.text and "Steget feilet og ble rullet tilbake" in element.text
    assert _logged(services) == [(users["ke"], case_id)]


def test_element_page_lists_the_waiting_cases_and_logs_each(app, services):
    users = municipality(services)
    waiting = _waiting_cases(services, users, [9, 3])
    elsewhere = wish(services, users, name="Annen Person")
    complete(services, elsewhere, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"]),
                                              "persons_wish": SECRET}, users["ke"])
    sara = login_client(app, "sara")
    page = sara.get("/tilsyn/prosesser/establishment/element/appoint")
    assert page.status_code == 200
    with services.db.session() as s:
        cases = {c.id: c for c in s.scalars(select(Case))}
    assert cases[waiting[0]].reference in page.text and cases[waiting[1]].reference in page.text
    assert cases[elsewhere].reference not in page.text
    assert cases[waiting[0]].title in page.text and "9 dager" in page.text
    assert page.text.index(cases[waiting[0]].reference) < page.text.index(cases[waiting[1]].reference)  # longest first
    assert f"/tilsyn/prosesser/sak/{waiting[0]}" in page.text
    assert "Bedre samarbeid" not in page.text
    assert sorted(_logged(services)) == sorted([(users["sara"], waiting[0]), (users["sara"], waiting[1])])


def test_element_list_is_paginated(app, services, monkeypatch):
    users = municipality(services)
    waiting = _waiting_cases(services, users, [3, 2, 1])
    monkeypatch.setattr("webapp.paging.PAGE_SIZE", 2)
    ke = login_client(app, "ke")
    first = ke.get("/tilsyn/prosesser/establishment/element/appoint")
    cursor = re.search(r'etter=([^"&]+)"', first.text).group(1)
    second = ke.get(f"/tilsyn/prosesser/establishment/element/appoint?etter={cursor}")
    with services.db.session() as s:
        refs = [s.get(Case, case_id).reference for case_id in waiting]
    assert refs[0] in first.text and refs[1] in first.text and refs[2] not in first.text
    assert refs[2] in second.text and refs[0] not in second.text


def test_case_page_shows_each_episode_with_done_and_current_elements(app, services):
    users = municipality(services)
    case_id = wish(services, users)
    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"]),
                                            "persons_wish": SECRET}, users["ke"])
    ke = login_client(app, "ke")
    page = ke.get(f"/tilsyn/prosesser/sak/{case_id}")
    assert page.status_code == 200
    config = _config(page, "episodes-config")
    [episode] = config["episodes"]
    assert episode["current"] == ["consent"]
    assert {"start", "appoint", "record_appointment"} <= set(episode["done"])
    assert "definitions" in config["diagrams"][episode["diagram"]]
    assert "Venter nå ved: Informer og innhent skriftlig samtykke." in page.text
    assert SECRET not in page.text and "Bedre samarbeid" not in page.text  # form data and the wish are content
    assert _logged(services) == [(users["ke"], case_id)]


def test_staff_get_404_and_unknown_things_are_404_pages(app, services):
    users = municipality(services)
    case_id = _waiting_cases(services, users, [1])[0]
    kari = login_client(app, "kari")
    for url in ("/tilsyn/prosesser/", "/tilsyn/prosesser/establishment",
                "/tilsyn/prosesser/establishment/element/appoint", f"/tilsyn/prosesser/sak/{case_id}"):
        assert kari.get(url).status_code == 404, url
    ke = login_client(app, "ke")
    for url in ("/tilsyn/prosesser/nope", "/tilsyn/prosesser/nope/element/appoint",
                "/tilsyn/prosesser/establishment/element/nope", "/tilsyn/prosesser/sak/999999",
                "/tilsyn/prosesser/sak/99999999999", "/tilsyn/prosesser/establishment?versjon=99",
                "/tilsyn/prosesser/establishment?versjon=x", "/tilsyn/prosesser/establishment?versjon=²"):
        page = ke.get(url)
        assert page.status_code == 404, url
        assert "Fant ikke siden" in page.text
    assert _logged(services) == []


def test_a_version_shows_only_its_own_episodes(app, services):
    users = municipality(services)
    _waiting_cases(services, users, [2])
    ke = login_client(app, "ke")
    assert _config(ke.get("/tilsyn/prosesser/establishment?versjon=1"))["elements"]["appoint"]["waiting"] == 1
    with services.db.session() as s:
        assert process_view.versions(s, "establishment") == [(1, 1)]


def test_process_page_runs_the_same_statements_for_few_and_many_cases(app, services):
    users = municipality(services)
    case_ids = _waiting_cases(services, users, [3, 1])
    _fail(services, case_ids[0], "appoint")

    def statements():
        ke = login_client(app, "ke")  # a new login: the clock moved past the last one's session
        ke.get("/tilsyn/prosesser/establishment")  # warm the spec cache
        with counting(services.db.engine) as counted:
            assert ke.get("/tilsyn/prosesser/establishment").status_code == 200
        return len(counted)

    few = statements()
    _waiting_cases(services, users, [6, 5, 4])
    assert statements() == few


def test_the_process_figures_may_be_a_minute_old_and_say_when(make_app):
    """With SUPERVISION_COUNTS_SECONDS (60 s in production) the process list's and a process
    map's grouped counts are computed once a minute; the page says when they were computed,
    and the waits are still reckoned from the moment the page is shown."""
    app = make_app(SUPERVISION_COUNTS_SECONDS=60)
    services = app.extensions["ansvarsgruppe"]
    users = municipality(services)
    _waiting_cases(services, users, [3])
    ke = login_client(app, "ke")
    for url in ("/tilsyn/prosesser/", "/tilsyn/prosesser/establishment"):
        first = ke.get(url)
        assert first.status_code == 200 and "Tallene er beregnet" in first.text
        with counting(services.db.engine) as warm:
            again = ke.get(url)
        assert again.status_code == 200
        assert not any("GROUP BY" in statement for statement in warm.statements), url  # from the cache
    wish(services, users, name="Enda En")  # a new waiting step: counted after the minute, not now
    assert _config(ke.get("/tilsyn/prosesser/establishment"))["elements"]["appoint"]["waiting"] == 1
