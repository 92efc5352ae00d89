"""Who reaches the person's own pages, and what they read there: the access log on "who has
looked", guardians of other children, staff, the coordinating unit, before the consent; and a
probe of every page of the app as a guardian with another child's ids."""
from __future__ import annotations

import re

from flask import url_for
from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import establish, open_task
from tests.webapp.meetings.helpers import meeting, plan
from tests.webapp.portal.helpers import citizen, citizen_client, establish_named, guardian_case, link
from webapp.audit.models import AccessLogEntry
from webapp.cases.models import CaseMember
from webapp.engine.models import OpenTask, ProcessInstance
from webapp.meetings.models import Meeting
from webapp.outbox.models import OutboxMessage
from webapp.auth.models import User


def _portal_pages(case_id, meeting_id):
    base = f"/min-side/saker/{case_id}"
    return [base, f"{base}/innsyn", f"{base}/samtykke", f"{base}/samtykke/trekk", f"{base}/moter/{meeting_id}",
            f"{base}/moter/{meeting_id}/meld-sak", f"{base}/moter/{meeting_id}/svar",
            f"{base}/moter/{meeting_id}/referat.pdf", f"{base}/be-om-mote", f"{base}/plan", f"{base}/foresatte"]


def test_who_has_looked(app, services, users):
    case_id = guardian_case(services, users)
    kari = login_client(app, "kari")
    assert kari.get(f"/saker/{case_id}").status_code == 200
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 200
    page = anne.get(f"/min-side/saker/{case_id}/innsyn")
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td></tr>", page.text, re.S)
    seen = {(who.strip(), where.strip()) for _when, who, where in rows}
    assert ("Kari Koordinator (Koordinator)", "Saken") in seen
    assert ("Anne Berg (Foresatt)", "Min side: gruppen") in seen
    assert ("Anne Berg (Foresatt)", "Min side: hvem har sett saken") in seen  # this very read
    with services.db.session() as s:
        anne_id = s.scalar(select(User.id).where(User.username == "anne"))
        pages = set(s.scalars(select(AccessLogEntry.page).where(AccessLogEntry.case_id == case_id,
                                                                AccessLogEntry.user_id == anne_id)))
    assert {"portal_case", "portal_log"} <= pages


def test_guardian_of_another_child_staff_and_the_coordinating_unit(app, services, users):
    case_a = guardian_case(services, users)
    meeting_a = meeting(services, case_a).id
    case_b = establish(services, users)
    citizen(services, "lise", "Lise Berg", email="lise@example.org")
    link(services, case_b, "foresatt", "lise")
    lise = citizen_client(app, "lise")
    assert lise.get(f"/min-side/saker/{case_b}").status_code == 200
    for url in _portal_pages(case_a, meeting_a):
        assert lise.get(url).status_code == 404, url
    # her home page lists only her own child's group
    home = lise.get("/min-side", follow_redirects=True)
    assert home.request.path == f"/min-side/saker/{case_b}"

    anne = citizen_client(app, "anne")
    for url in (f"/saker/{case_a}", "/oppgaver", "/", f"/saker/{case_a}/innsyn", "/register", "/utboks"):
        response = anne.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/min-side"), url
    step = open_task(services, case_a, "plan")
    assert anne.get(f"/oppgaver/{step.instance_id}/{step.task_id}").headers["Location"].endswith("/min-side")

    for staff in ("kari", "siri", "ke"):
        client = login_client(app, staff)
        assert client.get("/min-side").status_code == 404
        for url in _portal_pages(case_a, meeting_a):
            assert client.get(url).status_code == 404, (staff, url)


def test_a_visitor_must_log_in(app, services, users):
    case_id = guardian_case(services, users)
    for url in ("/min-side", f"/min-side/saker/{case_id}", f"/min-side/saker/{case_id}/innsyn"):
        response = app.test_client().get(url)
        assert response.status_code == 302 and "/logg-inn" in response.headers["Location"], url


def test_before_the_consent_only_the_group_and_the_consent(app, services, users):
    case_id = guardian_case(services, users, until="appointed")
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 200
    assert anne.get(f"/min-side/saker/{case_id}/samtykke").status_code == 200
    assert anne.get(f"/min-side/saker/{case_id}/innsyn").status_code == 200
    for url in (f"/min-side/saker/{case_id}/plan", f"/min-side/saker/{case_id}/moter/1",
                f"/min-side/saker/{case_id}/be-om-mote", f"/min-side/saker/{case_id}/samtykke/trekk"):
        assert anne.get(url).status_code == 404, url


def test_a_removed_guardian_no_longer_reaches_the_group(app, services, users):
    from webapp.cases.operations import remove_member
    case_id = guardian_case(services, users)
    with services.db.transaction() as s:
        member = s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.role == "foresatt"))
        remove_member(s, member, "Har ikke lenger foreldreansvar", at=services.clock.now(), actor_id=users["kari"])
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 404
    home = anne.get("/min-side")
    assert home.status_code == 200 and "Emma Berg" not in home.text
    assert "Du er ikke med i noen ansvarsgruppe" in home.text


def _probe_values(services, case_id):
    with services.db.session() as s:
        return {
            "case_id": [case_id],
            "meeting_id": list(s.scalars(select(Meeting.id).where(Meeting.case_id == case_id))),
            "instance_id": list(s.scalars(select(ProcessInstance.id).where(ProcessInstance.case_id == case_id))),
            "message_id": list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.case_id == case_id))),
        }, [(t.instance_id, t.task_id) for t in s.scalars(select(OpenTask).where(OpenTask.case_id == case_id))]


def _urls(app, values, tasks, case_id) -> list[str]:
    """Every GET route, its arguments filled from ``values`` (a step's instance and task together;
    ``case_id`` for the case); any other argument gets a simple value of its kind."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        combos = [{}]
        arguments = sorted(rule.arguments)
        if {"instance_id", "task_id"} <= set(arguments):
            combos = [{"instance_id": i, "task_id": t} for i, t in tasks]
        for argument in arguments:
            if argument in ("instance_id", "task_id"):
                continue
            options = [case_id] if argument == "case_id" else values.get(argument) or [1]
            combos = [{**c, argument: v} for c in combos for v in options]
        with app.test_request_context():
            for combo in combos:
                try:
                    urls.append(url_for(rule.endpoint, **combo))
                except Exception:  # a converter refusing a simple value: no such page either
                    continue
    return urls


def test_citizen_probe_of_every_page_with_another_childs_ids(app, services, users):
    """The guardian of case A fetches every GET route of the app filled with case B's ids, and
    the portal's routes with case A and case B's other ids: nothing is a 500, case B's pages
    are 404, and no response names case B's person."""
    case_a = guardian_case(services, users)
    case_b = establish_named(services, users, "Oskar Fjellheim")
    citizen(services, "frida", "Frida Fjellheim", email="frida@example.org")
    link(services, case_b, "foresatt", "frida")
    plan(services, users, case_b)  # case B's wishes step waits for its guardian on her own pages
    assert open_task(services, case_b, "needs").assignee_id is not None
    values, tasks = _probe_values(services, case_b)
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_a}").status_code == 200
    urls = _urls(app, values, tasks, case_b)
    mixed = [u for u in _urls(app, values, tasks, case_a)  # case A with case B's meeting or step
             if u.startswith((f"/min-side/saker/{case_a}/moter/", f"/min-side/saker/{case_a}/onsker/"))]
    assert any("/onsker/" in u for u in urls) and any("/moter/" in u for u in mixed)
    for url in urls + mixed:
        response = anne.get(url)
        assert response.status_code in (200, 302, 303, 403, 404, 405), f"GET {url}: {response.status_code}"
        body = response.get_data().decode("utf-8", errors="replace")
        assert "Oskar" not in body and "Fjellheim" not in body, f"GET {url} names the other child"
        if url.startswith(f"/min-side/saker/{case_b}") or url in mixed:
            assert response.status_code == 404, url
    assert len(urls) > 40
