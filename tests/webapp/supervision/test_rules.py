"""The supervisors' rules (issue 13) with a moved clock: each situation is built with the real
domain operations, the case appears with exactly that rule and the day it got stuck, and it
disappears once resolved the way a user resolves it. Then the cockpit's filters, sorting, CSV and
saved views. SQLite and PostgreSQL.

The clock stands at noon in Oslo, so the UTC day SQLite reads from a timestamp is Oslo's day."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import FAILING, deploy_test_diagrams, login_client
from tests.webapp.cases.helpers import APPOINT, CONSENT, complete, establish, open_task, wish
from tests.webapp.meetings.helpers import hold_data, members, prepare
from tests.webapp.supervision.clock import START, noon, town_at_start
from tests.webapp.transitions.helpers import CONSENT_RENEWED
from webapp.admin.operations import deactivate_user
from webapp.auth.models import User
from webapp.cases.models import Case, Consent
from webapp.cases.operations import appoint_coordinator
from webapp.clock import OSLO
from webapp.engine.models import Incident
from webapp.engine.runtime import StepFailed
from webapp.evaluations.models import Evaluation
from webapp.meetings.models import Measure
from webapp.outbox.operations import Outbox
from webapp.settings.operations import change_setting
from webapp.supervision import rules
from webapp.supervision.models import SavedView
from webapp.transitions import planning
from webapp.transitions.models import Transition

EVALUATION = {"composition": "Riktige tjenester er med", "atmosphere": "Godt", "efficiency": "Korte møter",
              "challenges": "", "work": "Tiltakene følges opp", "persons_view": "Emma er fornøyd",
              "still_needed": "ja", "decision": "continue"}


@pytest.fixture
def town(services):
    return town_at_start(services)


def stuck(services, case_id: int, rule: str | None = None) -> list[tuple]:
    """(rule, since, process, detail) of the case's rows: of one rule's query, or of the union."""
    with services.db.session() as s:
        union = rules.stuck(rules.read_settings(s), services.clock.now(), services.clock.today(),
                            [rule] if rule else None)
        return sorted((r.rule, r.since, r.process_id, r.detail) for r in s.execute(
            select(union).where(union.c.case_id == case_id)))


def assert_stuck(services, case_id: int, row: tuple) -> None:
    """The case is listed by ``row``'s rule exactly once, with that day, and in the union."""
    assert stuck(services, case_id, row[0]) == [row]
    assert row in stuck(services, case_id)
    with services.db.session() as s:
        assert rules.counts(s, services.clock.now(), services.clock.today())[row[0]] >= 1


def set_setting(services, key: str, value) -> None:
    with services.db.transaction() as s:
        change_setting(s, key, value, at=services.clock.now(), actor_id=None)


def test_incident_until_the_step_is_retried_after_the_fault_is_fixed(app, services, town):
    deploy_test_diagrams(services)
    case_id = establish(services, town, until="appointed")
    started = services.engine.start(case_id, "failing", actor_id=town["kari"])
    task = open_task(services, case_id, "ask")
    with pytest.raises(StepFailed) as failed:  # the service the step calls does not answer
        services.engine.complete_task(started.instance_id, task.task_id, {"comment": "ok", "agree": "ja"},
                                      actor_id=town["kari"])
    services.clock.advance(timedelta(days=3))
    assert_stuck(services, case_id, ("incident", START.date(), "failing", "call"))
    ke = login_client(app, "ke", "passord123")
    assert "Feil i et steg" in ke.get("/tilsyn/?regel=incident").text

    retry = f"/tilsyn/handlinger/hendelser/{failed.value.incident_id}/prov-igjen"
    refused = ke.post(retry, data={"reason": "Tjenesten er rettet"})  # no CSRF token
    assert refused.status_code == 400 and stuck(services, case_id, "incident")
    FAILING["on"] = False  # the service answers again
    done = ke.post(retry, data={"csrf_token": ke.token, "reason": "Tjenesten er rettet"}, follow_redirects=True)
    assert "1 steg gikk gjennom." in done.text
    assert stuck(services, case_id, "incident") == []
    with services.db.session() as s:
        assert s.get(Incident, failed.value.incident_id).status == "resolved"


@pytest.mark.parametrize("moment", [datetime(2026, 9, 1, 0, 30, tzinfo=OSLO),  # summer time: 22:30 UTC
                                    datetime(2026, 12, 1, 0, 30, tzinfo=OSLO),  # winter time: 23:30 UTC
                                    datetime(2027, 3, 28, 3, 30, tzinfo=OSLO)])  # the first hour of summer time
def test_the_day_a_case_got_stuck_is_oslos_day(services, town, moment):
    """A step failing (or opened by the worker) just after midnight in Oslo, still the day before
    in UTC, is stuck since Oslo's day on both databases."""
    deploy_test_diagrams(services)
    case_id = establish(services, town, until="appointed")
    started = services.engine.start(case_id, "failing", actor_id=town["kari"])
    task = open_task(services, case_id, "ask")
    services.clock.set(moment)
    with pytest.raises(StepFailed):
        services.engine.complete_task(started.instance_id, task.task_id, {"comment": "ok", "agree": "ja"},
                                      actor_id=town["kari"])
    assert stuck(services, case_id, "incident") == [("incident", moment.date(), "failing", "call")]


def test_overdue_step_until_it_is_done(services, town):
    case_id = establish(services, town, until="appointed")
    due_at = open_task(services, case_id, "consent").due_at
    assert due_at is not None
    services.clock.set(due_at + timedelta(days=2))
    assert_stuck(services, case_id, ("overdue_step", due_at.astimezone(OSLO).date(), "establishment", "consent"))
    services.clock.set(due_at - timedelta(hours=1))
    assert stuck(services, case_id, "overdue_step") == []  # not before its deadline
    services.clock.set(due_at + timedelta(days=2))
    complete(services, case_id, "consent", {**CONSENT, "signed_on": services.clock.today().isoformat()},
             town["kari"])
    assert stuck(services, case_id, "overdue_step") == []  # the next step has its own deadline ahead


def test_orphaned_step_and_no_coordinator_until_a_new_coordinator_is_appointed(services, town):
    case_id = establish(services, town, until="appointed")
    services.clock.advance(timedelta(days=2))
    with services.db.transaction() as s:  # the coordinator leaves; the administrator names nobody
        deactivate_user(s, s.get(User, town["kari"]), successor=None, reassign=services.engine.reassign,
                        outbox_for=lambda c: Outbox(s, services.clock, c), at=services.clock.now(),
                        actor_id=town["ke"])
    services.clock.advance(timedelta(days=1))
    assert_stuck(services, case_id, ("orphaned_step", START.date(), "establishment", "consent"))
    assert_stuck(services, case_id, ("no_coordinator", START.date(), "establishment", None))

    with services.db.transaction(serialised=True) as s:  # the coordinating unit appoints Ola
        appoint_coordinator(s, s.get(Case, case_id), s.get(User, town["ola"]), kind="coordinator",
                            at=services.clock.now(), actor_id=town["ke"], reason="Forrige koordinator sluttet")
        services.engine.reassign(s, case_id, lane="koordinator", from_user_id=town["kari"])
    assert stuck(services, case_id, "orphaned_step") == stuck(services, case_id, "no_coordinator") == []
    assert open_task(services, case_id, "consent").assignee_id == town["ola"]


def test_consent_waiting_after_the_set_number_of_days_until_consent_is_given(services, town):
    case_id = establish(services, town, until="appointed")
    services.clock.set(START + timedelta(days=30))
    assert stuck(services, case_id, "consent_waiting") == []  # 30 days is the limit, not past it
    services.clock.set(START + timedelta(days=31))
    assert_stuck(services, case_id, ("consent_waiting", START.date(), "establishment", None))
    set_setting(services, "consent_waiting_days", 60)
    assert stuck(services, case_id, "consent_waiting") == []
    set_setting(services, "consent_waiting_days", 30)
    complete(services, case_id, "consent", {**CONSENT, "signed_on": services.clock.today().isoformat()},
             town["kari"])
    assert stuck(services, case_id, "consent_waiting") == []


def test_meeting_due_from_activation_until_a_meeting_is_held(services, town):
    case_id = establish(services, town)  # active 31 August 2026; meetings every 6 months
    services.clock.set(noon(date(2027, 2, 28)))
    assert stuck(services, case_id, "meeting_due") == []
    services.clock.set(noon(date(2027, 3, 1)))
    assert_stuck(services, case_id, ("meeting_due", date(2027, 2, 28), "meeting", None))

    prepare(services, town, case_id)  # the first meeting, planned and invited late
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), town["siri"])
    assert stuck(services, case_id, "meeting_due") == []

    # the municipality now wants a meeting every month: due a month after it met (31 March)
    set_setting(services, "meeting_interval_months", 1)
    services.clock.set(noon(date(2027, 4, 30)))
    assert stuck(services, case_id, "meeting_due") == []
    services.clock.set(noon(date(2027, 5, 1)))
    assert_stuck(services, case_id, ("meeting_due", date(2027, 4, 30), "meeting", None))


def test_evaluation_overdue_until_it_is_done(services, town):
    case_id = establish(services, town)
    services.clock.set(noon(date(2027, 9, 2)))
    services.engine.fire_due_timers()  # the evaluation's episode started on its day, and waits
    with services.db.session() as s:
        evaluation = s.scalar(select(Evaluation).where(Evaluation.case_id == case_id))
    assert evaluation.due_on == date(2027, 8, 31)
    assert_stuck(services, case_id, ("evaluation_overdue", date(2027, 8, 31), "evaluation", "evaluation"))
    complete(services, case_id, "evaluate", EVALUATION, town["kari"])
    assert stuck(services, case_id, "evaluation_overdue") == []  # the next one is a year ahead


def test_review_not_started_while_the_worker_is_off(services, town):
    case_id = establish(services, town)
    transition_id = planning.add(services, case_id, kind="moving", description="Familien flytter",
                                 on_date=date(2027, 10, 1), actor_id=town["kari"])
    services.clock.set(noon(date(2026, 10, 3)))  # the review was due on 1 October; no worker ran
    assert_stuck(services, case_id, ("review_not_started", date(2026, 10, 1), "transition_review", "moving"))
    services.engine.start_due_scheduled()
    assert stuck(services, case_id, "review_not_started") == []
    with services.db.session() as s:
        assert s.get(Transition, transition_id).status == "under_review"


def test_measure_overdue_until_it_is_followed_up(services, town):
    case_id = establish(services, town)
    prepare(services, town, case_id)
    data = hold_data(services, case_id)
    complete(services, case_id, "hold_first", data, town["siri"])
    deadline = date.fromisoformat(data["new_measures"][0]["deadline"])
    services.clock.set(noon(deadline))
    assert stuck(services, case_id, "measure_overdue") == []
    services.clock.set(noon(deadline + timedelta(days=2)))
    assert_stuck(services, case_id, ("measure_overdue", deadline, "measure", None))
    complete(services, case_id, "follow", {"outcome": "done"}, town["siri"], town["siri"])
    assert stuck(services, case_id, "measure_overdue") == []
    with services.db.session() as s:
        assert s.scalar(select(Measure.status).where(Measure.case_id == case_id)) != "open"


def test_consent_due_a_month_before_it_ends_until_it_is_renewed(services, town):
    set_setting(services, "consent_valid_months", 12)
    case_id = establish(services, town, until="appointed")
    complete(services, case_id, "consent", {**CONSENT, "signed_on": "2026-03-31"}, town["kari"])
    case_id = _finish_establishment(services, town, case_id)
    with services.db.session() as s:
        assert s.scalar(select(Consent.valid_until).where(Consent.case_id == case_id)) == date(2027, 3, 31)
    services.clock.set(noon(date(2027, 2, 27)))
    assert stuck(services, case_id, "consent_due") == []
    services.clock.set(noon(date(2027, 3, 1)))
    assert_stuck(services, case_id, ("consent_due", date(2027, 2, 28), "establishment", None))

    # a school change: the review changes the composition and the consent is renewed for it
    planning.add(services, case_id, kind="school_change", description="Ny skole", on_date=date(2027, 4, 1),
                 actor_id=town["kari"])
    ids = members(services, case_id)
    complete(services, case_id, "review", {
        "leaving": [{"member_id": str(ids["Per Fastlege"]), "reason": "Ny fastlege"}],
        "joining": [{"name": "Ola Helse", "user_id": str(town["ola"])}], "handover": [],
        "summary": "Ny fastlege"}, town["kari"])
    complete(services, case_id, "consent", {**CONSENT_RENEWED, "informed_on": "2027-03-01",
                                            "signed_on": "2027-03-01"}, town["kari"])
    assert stuck(services, case_id, "consent_due") == []
    with services.db.session() as s:
        assert len(s.scalars(select(Consent).where(Consent.case_id == case_id)).all()) == 2


def _finish_establishment(services, town, case_id: int) -> int:
    complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(town["siri"]), "name": "Siri Skole", "unit_id": str(town["unit_school"])},
        {"name": "Per Fastlege", "email": "per@example.org"}]}, town["kari"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, town["siri"], town["siri"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Lege"}, town["kari"], town["kari"])
    complete(services, case_id, "plan_need", {"plan_need": "yes"}, town["kari"])
    complete(services, case_id, "first_meeting", {"first_meeting_date": "2026-09-21"}, town["kari"])
    return case_id


# --- the page -------------------------------------------------------------------------------

@pytest.fixture
def two_groups(services, town):
    """Emma (7, coordinator Kari, the school's Siri a member) stalled at the members' confirmations;
    Ole (36, coordinator Ola) waiting for consent. 45 days later."""
    emma = establish(services, town, until="proposed")
    ole = wish(services, town, name="Ole Olsen", born="1990-02-03")
    complete(services, ole, "appoint", {**APPOINT, "coordinator_user_id": str(town["ola"])}, town["ke"])
    services.clock.set(START + timedelta(days=45))
    return {"emma": emma, "ole": ole}


def csv_rows(client, query: str = "") -> list[dict]:
    response = client.get(f"/tilsyn/saker.csv{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert lines[0][:4] == ["Sak", "Tittel", "Regel", "Fast siden"]
    return [dict(zip(lines[0], line)) for line in lines[1:]]


def listed(html: str) -> list[int]:
    """The case ids of the page's rows, in order."""
    return [int(x) for x in re.findall(r'href="/saker/(\d+)"', html)]


def test_nonsense_filters_are_ignored_with_a_message_each(app, services, two_groups):
    ke = login_client(app, "ke", "passord123")
    plain = ke.get("/tilsyn/")
    page = ke.get("/tilsyn/?regel=x&enhet=abc&dager=-1&alder=zzz&sortering=q&prosess=nope&etter=%%%")
    assert page.status_code == 200
    for message in ("Ukjent regel «x» ble ikke brukt.", "Ugyldig enhet «abc» ble ikke brukt.",
                    "«-1» er ikke et antall dager fra 0 til 36500, og ble ikke brukt.",
                    "Ukjent alderstrinn «zzz» ble ikke brukt.", "Ukjent sortering «q» ble ikke brukt.",
                    "Ukjent prosess «nope» ble ikke brukt."):
        assert message in page.text
    assert listed(page.text) == listed(plain.text) and set(listed(plain.text)) == set(two_groups.values())
    assert ke.get("/tilsyn/?etter=abc.def").status_code == 200  # a bad cursor: the first page
    assert ke.get("/tilsyn/saker.csv?enhet=abc&dager=zz").status_code == 200


def test_each_filter_narrows_the_list(app, services, town, two_groups):
    emma, ole = two_groups["emma"], two_groups["ole"]
    ke = login_client(app, "ke", "passord123")
    everything = csv_rows(ke)
    with services.db.session() as s:
        references = {s.get(Case, case_id).reference: case_id for case_id in two_groups.values()}

    def cases(rows: list[dict]) -> list[int]:
        return sorted({references[row["Sak"]] for row in rows})

    assert cases(everything) == sorted([emma, ole])
    assert {row["Regel"] for row in everything} >= {"Venter lenge på samtykke", "Steg over fristen"}
    assert "Bedre samarbeid" not in ke.get("/tilsyn/saker.csv").text  # register data only, no content

    assert cases(csv_rows(ke, f"?enhet={town['unit_school']}")) == [emma]
    assert cases(csv_rows(ke, f"?koordinator={town['ola']}")) == [ole]
    assert cases(csv_rows(ke, "?alder=primary")) == [emma]
    assert cases(csv_rows(ke, "?alder=adult")) == [ole]
    assert csv_rows(ke, "?alder=upper_secondary") == []
    waiting = csv_rows(ke, "?regel=consent_waiting")
    assert [(references[r["Sak"]], r["Fast siden"], r["Dager"]) for r in waiting] == [(ole, "2026-08-31", "45")]
    assert all(r["Prosess"] == "establishment" for r in csv_rows(ke, "?prosess=establishment"))
    assert csv_rows(ke, "?prosess=meeting") == []
    for days in (0, 30, 40, 45, 46):
        rows = csv_rows(ke, f"?dager={days}")
        assert rows == [r for r in everything if int(r["Dager"]) >= days]
    assert csv_rows(ke, "?dager=45") and not csv_rows(ke, "?dager=46")

    # sorting: longest stuck first by default, the newest first when asked
    oldest = listed(ke.get("/tilsyn/").text)
    newest = listed(ke.get("/tilsyn/?sortering=nyest").text)
    assert oldest == [references[r["Sak"]] for r in everything]  # the CSV keeps the keyset order
    assert newest == oldest[::-1] and oldest[0] == ole
    page = ke.get(f"/tilsyn/?koordinator={town['ola']}").text
    assert listed(page) == [ole] * len(csv_rows(ke, f"?koordinator={town['ola']}"))


def test_saved_views_are_personal(app, services, town, two_groups):
    ke = login_client(app, "ke", "passord123")
    form = {"name": "Venter på samtykke", "regel": "consent_waiting", "dager": "30"}
    assert ke.post("/tilsyn/visninger", data=form).status_code == 400  # no CSRF token
    saved = ke.post("/tilsyn/visninger", data={**form, "csrf_token": ke.token}, follow_redirects=True)
    assert "Visningen «Venter på samtykke» er lagret." in saved.text
    with services.db.session() as s:
        [view] = s.scalars(select(SavedView)).all()
    assert view.user_id == town["ke"] and dict(p.split("=") for p in view.query.split("&")) == {
        "regel": "consent_waiting", "dager": "30"}
    page = ke.get("/tilsyn/").text
    link = re.search(r'<a class="ds-link" href="(/tilsyn/\?[^"]+)">Venter på samtykke</a>', page)
    assert link, "the saved view is listed with its link"
    reproduced = ke.get(link.group(1).replace("&amp;", "&")).text
    assert '<option value="consent_waiting" selected>' in reproduced and 'value="30"' in reproduced
    assert listed(reproduced) == [two_groups["ole"]]
    assert ke.post("/tilsyn/visninger", data={"name": " ", "csrf_token": ke.token},
                   follow_redirects=True).text.count("Gi visningen et navn") == 1

    sara = login_client(app, "sara", "passord123")
    assert "Venter på samtykke" not in sara.get("/tilsyn/").text
    assert sara.post(f"/tilsyn/visninger/{view.id}/slett", data={"csrf_token": sara.token}).status_code == 404
    assert ke.post(f"/tilsyn/visninger/{view.id}/slett").status_code == 400  # no CSRF token
    gone = ke.post(f"/tilsyn/visninger/{view.id}/slett", data={"csrf_token": ke.token}, follow_redirects=True)
    assert "Visningen er slettet." in gone.text and "Ingen lagrede visninger ennå." in gone.text
    with services.db.session() as s:
        assert s.scalars(select(SavedView)).all() == []
