"""Demo data: one user per persona, units, and cases in different states so every page has
something to show."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone

from flask import Flask
from sqlalchemy import select

from webapp.admin.operations import deactivate_user
from webapp.audit.operations import record
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Case, CaseMember, Person, Unit
from webapp.cases.registration import register
from webapp.clock import OSLO
from webapp.closing.actions import request_closing
from webapp.deviations.recording import report as report_deviation
from webapp.engine.models import Incident, OpenTask, ProcessInstance
from webapp.outbox.operations import Outbox
from webapp.settings.operations import change_setting
from webapp.transitions.planning import add as add_transition

DEMO_PASSWORD = "demo1234"

#: username, full name, system roles, description shown on the login page
DEMO_USERS = [
    ("kari", "Kari Koordinator", ("staff",), "Koordinator (saksbehandler)"),
    ("ola", "Ola Helsesykepleier", ("staff",), "Tjenesteyter: helsestasjonen"),
    ("siri", "Siri Skole", ("staff",), "Tjenesteyter: skolen"),
    ("ke", "Kjell Koordinerende enhet", ("staff", "coordinating_unit"), "Koordinerende enhet"),
    ("system", "Sara Systemansvarlig", ("staff", "system_owner"), "Systemansvarlig (tilsyn)"),
    ("prosess", "Per Prosesseier", ("process_owner",), "Prosesseier (diagrammer og skjemaer)"),
    ("admin", "Anne Administrator", ("admin",), "Administrator"),
    # the person and a guardian with their own login (locally; ID-porten in a real deployment)
    ("jonas", "Jonas Lie", ("citizen",), "Personen selv: Jonas Lie (16 år), egen side"),
    ("tor", "Tor Hansen", ("citizen",), "Foresatt: Tor Hansen, far til Emil (samtykke venter)"),
]

#: demo citizen -> (the person's name in the case, the member role they are linked to)
DEMO_CITIZENS = {"jonas": ("Jonas Lie", "bruker"), "tor": ("Emil Hansen", "foresatt")}

UNITS = [("Helsestasjonen", "health"), ("Solbakken skole", "school"), ("Solbakken barnehage", "kindergarten"),
         ("NAV", "nav"), ("Barneverntjenesten", "child_welfare"), ("Fastlegekontoret", "gp")]


def _complete(services, case_id: int, task_spec: str, data: dict, actor_id: int) -> None:
    with services.db.session() as s:
        task = s.scalar(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == task_spec)
                        .order_by(OpenTask.id).limit(1))
    services.engine.complete_task(task.instance_id, task.task_id, data, actor_id=actor_id)


def _member_ids(services, case_id: int) -> dict[str, str]:
    from webapp.cases.models import CaseMember
    with services.db.session() as s:
        return {m.name: str(m.id) for m in s.scalars(select(CaseMember).where(CaseMember.case_id == case_id))}


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _demo_meeting(services, case_id: int, users: dict, today, next_meeting: date) -> None:
    """The active case's first meeting: held, minutes approved and sent, measures running, the
    next meeting set on ``next_meeting`` (its planning starts a lead time before it)."""
    ids = _member_ids(services, case_id)
    day = today + timedelta(days=21)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    _complete(services, case_id, "plan", {"meeting_date": day.isoformat(), "meeting_time": "13:00",
                                          "duration_minutes": 90, "place": "Rådhuset, møterom 2",
                                          "minute_taker_member_id": ids["Siri Skole"]}, users["kari"])
    _complete(services, case_id, "needs", {"persons_needs": "Jonas vil snakke om overgangen til videregående.",
                                           "person_attends": "ja"}, users["kari"])
    _complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [
        {"title": "Gjennomgang av retningslinjer for møtene"}, {"title": "Valg av videregående skole"}]}, users["kari"])
    meeting_start = datetime.combine(day, time(13, 0), OSLO)
    services.clock.advance(meeting_start + timedelta(hours=2) - services.clock.now())  # the minutes after the meeting
    _complete(services, case_id, "hold_first", {
        "rules_reviewed": True, "cooperation_meeting": "nei", "previous_minutes_approved": "ingen",
        "attendance": [{"member_id": ids["Jonas Lie"], "present": True}, {"member_id": ids["Kari Koordinator"], "present": True},
                       {"member_id": ids["Siri Skole"], "present": True},
                       {"member_id": ids["Per Fastlege"], "present": False, "absence_reason": "Legevakt"}],
        "persons_account": "Jonas ønsker å gå på yrkesfag og trenger hjelp til søknaden.",
        "services_account": "Skolen har god erfaring med rådgivertjenesten.",
        "items": [{"title": "Gjennomgang av retningslinjer for møtene", "conclusion": "Gjennomgått"},
                  {"title": "Valg av videregående skole", "discussion": "Yrkesfag er aktuelt.",
                   "conclusion": "Rådgiver bistår med søknaden"}],
        "new_measures": [
            {"description": "Avtale møte med rådgiver", "responsible_member_id": ids["Siri Skole"],
             "deadline": (day + timedelta(days=25)).isoformat()},  # overdue by the demo's today
            {"description": "Legeerklæring til søknaden", "responsible_member_id": ids["Per Fastlege"],
             "deadline": (day + timedelta(days=60)).isoformat()}],
        "summary": "Jonas søker yrkesfag; skolen og fastlegen bidrar.",
        "next_meeting_date": next_meeting.isoformat(), "next_meeting_theme": "Planen og søknaden",
        "recipients": [ids["Jonas Lie"], ids["Kari Koordinator"], ids["Siri Skole"], ids["Per Fastlege"]],
    }, users["siri"])
    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.case_id == case_id, OpenTask.task_spec == "approve")).all()
    for task in approvals:
        services.engine.complete_task(task.instance_id, task.task_id, {"approved": "ja"}, actor_id=task.assignee_id)
    _complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])


def _demo_active_group(services, wish, users: dict, units: dict, appoint: dict, consent: dict,
                       demo_today: date) -> int:
    """The active group (Jonas Lie), established on the clock's today, its first meeting held and
    its individual plan adopted after it; its next meeting three weeks after ``demo_today``."""
    today = services.clock.today()
    active = wish("Jonas Lie", "2010-08-30", by="person")
    _complete(services, active, "appoint", {**appoint, "coordinator_kind": "coordinator"}, users["ke"])
    _complete(services, active, "consent", {**consent, "signed_by": "Jonas Lie", "signed_how": "in_person",
                                              "signed_on": today.isoformat()},
              users["kari"])
    _complete(services, active, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(units["Solbakken skole"])},
        {"name": "Per Fastlege", "unit_id": str(units["Fastlegekontoret"]), "email": "per@legekontor.no"}]},
        users["kari"])
    _complete(services, active, "confirm", {"participates": "ja", "mandate": "Tilrettelegging i skolen."}, users["siri"])
    _complete(services, active, "confirm", {"participates": "ja", "mandate": "Medisinsk oppfølging."}, users["kari"])
    _complete(services, active, "plan_need", {"plan_need": "yes"}, users["kari"])  # starts the plan episode
    _complete(services, active, "first_meeting", {"first_meeting_date": (today + timedelta(days=21)).isoformat(),
                                                   "first_meeting_place": "Rådhuset, møterom 2"}, users["kari"])

    _demo_meeting(services, active, users, today, _weekday(demo_today + timedelta(days=21)))
    _demo_plan(services, active, users, demo_today)
    return active


def _demo_plan(services, case_id: int, users: dict, demo_today: date) -> None:
    """Jonas Lie's individual plan, written through its episode in the fortnight after the first
    meeting: consent with Siri Skole as secretary (guideline 004), three goals, three measures
    (the first due before the next meeting, so the next agenda proposes it), adopted with Jonas
    two weeks before ``demo_today``; the revision half a year later."""
    ids = _member_ids(services, case_id)
    services.clock.advance(timedelta(days=1))
    _complete(services, case_id, "plan_consent", {
        "consent_decision": "gitt", "signed_by": "Jonas Lie", "signed_how": "in_person",
        "signed_on": services.clock.today().isoformat(),
        "participants": [ids["Jonas Lie"], ids["Kari Koordinator"], ids["Siri Skole"], ids["Per Fastlege"]],
        "writer_member_id": ids["Siri Skole"]}, users["kari"])
    services.clock.advance(timedelta(days=3))
    _complete(services, case_id, "goals", {
        "whats_important": "Å bli elektriker, og å ha noen å være sammen med etter skolen.",
        "resources": "Jonas er praktisk anlagt, tålmodig og flink med hendene.",
        "needs": "Hjelp til å planlegge og til å holde oversikt over frister; trygghet i nye situasjoner.",
        "new_goals": [{"term": "long", "text": "Jonas fullfører videregående på elektrofag"},
                      {"term": "short", "text": "Jonas har søkt og fått plass på elektrofag til høsten"},
                      {"term": "short", "text": "Jonas har en fast fritidsaktivitet sammen med jevnaldrende"}],
        "contribution_person": "Jonas sier fra når noe blir for mye, og møter forberedt til samtalene med rådgiver.",
        "contribution_services": "Skolen gir tett oppfølging av rådgiver; fastlegen bidrar med det søknaden "
                                 "trenger.",
        "contribution_relatives": "Mor hjelper til med å holde oversikt over avtaler.",
        "cooperation": "Skolen samarbeider med den videregående skolen om overgangen."}, users["siri"])
    services.clock.advance(timedelta(days=1))
    goals = _plan_goal_ids(services, case_id)
    _complete(services, case_id, "measures", {"new_measures": [
        {"description": "Søknad til videregående sammen med rådgiver", "goal_id": goals[1],
         "scope": "To samtaler", "responsible_member_id": ids["Siri Skole"],
         "how": "Rådgiver og Jonas fyller ut søknaden sammen",
         "deadline": (demo_today + timedelta(days=10)).isoformat()},
        {"description": "Prøve klatregruppa på fritidsklubben", "goal_id": goals[2], "scope": "Én kveld i uka",
         "responsible_member_id": ids["Jonas Lie"], "how": "Kari blir med første gang",
         "deadline": (demo_today + timedelta(days=45)).isoformat()},
        {"description": "Hospitering på elektrofag", "goal_id": goals[0], "scope": "Tre dager",
         "responsible_member_id": ids["Siri Skole"], "how": "Avtales med den videregående skolen",
         "deadline": (demo_today + timedelta(days=75)).isoformat()}]}, users["siri"])
    services.clock.set(datetime.combine(demo_today - timedelta(days=14), time(10, 0), OSLO))
    adopted_on = services.clock.today()
    _complete(services, case_id, "adopt", {
        "decision": "adopt", "agreed_with_person": True, "period_from": adopted_on.isoformat(),
        "period_to": (adopted_on + timedelta(days=365)).isoformat(),
        "revision_due_on": (adopted_on + timedelta(days=182)).isoformat(),
        "note": "Første plan, gått gjennom med Jonas."}, users["kari"])


def _plan_goal_ids(services, case_id: int) -> list[str]:
    from webapp.plans.models import Plan, PlanGoal
    with services.db.session() as s:
        plan_id = s.scalar(select(Plan.id).where(Plan.case_id == case_id).order_by(Plan.id.desc()).limit(1))
        return [str(i) for i in s.scalars(select(PlanGoal.id).where(PlanGoal.plan_id == plan_id)
                                          .order_by(PlanGoal.position, PlanGoal.id))]


def _demo_next_meeting(services, case_id: int, users: dict) -> None:
    """Jonas Lie's next meeting: its planning started (its scheduled start fell due a week ago),
    planned and the person's needs heard; the agenda waits for the coordinator, proposed from the plan's
    goals and the measures due by the meeting (setting plan_is_agenda)."""
    from webapp.meetings.models import Meeting
    ids = _member_ids(services, case_id)
    with services.db.session() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.case_id == case_id, Meeting.held_at.is_(None))
                           .order_by(Meeting.number.desc()).limit(1))
        day = meeting.starts_at.astimezone(OSLO).date()
    _complete(services, case_id, "plan", {"meeting_date": day.isoformat(), "meeting_time": "14:00",
                                          "duration_minutes": 90, "place": "Rådhuset, møterom 2",
                                          "minute_taker_member_id": ids["Siri Skole"]}, users["kari"])
    _complete(services, case_id, "needs", {"persons_needs": "Jonas vil snakke om søknaden og om klatringen.",
                                           "person_attends": "ja"}, users["kari"])


def _establish_quickly(services, case_id: int, users: dict, units: dict, appoint: dict, consent: dict,
                       first_meeting, plan_need: str = "no") -> None:
    _complete(services, case_id, "appoint", appoint, users["ke"])
    _complete(services, case_id, "consent", {**consent, "signed_on": services.clock.today().isoformat()},
              users["kari"])
    _complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["ola"]), "name": "Ola Helsesykepleier", "unit_id": str(units["Helsestasjonen"])}]},
        users["kari"])
    _complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Helseoppfølging."}, users["ola"])
    _complete(services, case_id, "plan_need", {"plan_need": plan_need}, users["kari"])
    _complete(services, case_id, "first_meeting", {"first_meeting_date": first_meeting.isoformat()}, users["kari"])


def _demo_year_old_group(services, users: dict, units: dict, appoint: dict, consent: dict, wish) -> None:
    """Two groups established 13 months ago: one whose yearly evaluation is now due (the worker
    starts its scheduled episode) and whose individual plan, adopted a year ago, is past its
    revision date, and one the guardians asked to close (closed, so the coordinating unit can
    re-establish it)."""
    back = timedelta(days=396)
    services.clock.advance(-back)
    try:
        evaluated = wish("Sofie Dahl", "2012-10-03", by_name="Hege Dahl")
        _establish_quickly(services, evaluated, users, units, appoint, consent,
                           services.clock.today() + timedelta(days=20), plan_need="yes")
        closed = wish("Lars Bakke", "2013-04-22", by_name="Mona Bakke")
        _establish_quickly(services, closed, users, units, appoint, consent,
                           services.clock.today() + timedelta(days=20))
    finally:
        services.clock.advance(back)
    _demo_overdue_plan(services, evaluated, users)
    services.engine.fire_due_timers()  # the evaluation and the plan's revision start
    request_closing(services, closed, initiated_by="guardian", requested_by_name="Mona Bakke",
                    reason="Lars klarer seg godt, og familien ønsker ikke flere møter.", actor_id=users["kari"])
    _complete(services, closed, "confirm_closing", {
        "confirmed": "ja", "confirmed_with": "Mona Bakke", "confirmed_on": services.clock.today().isoformat(),
        "reason": "Målene er nådd, og familien ønsker å avslutte.", "closing_meeting": "nei"}, users["kari"])


def _demo_overdue_plan(services, case_id: int, users: dict) -> None:
    """Sofie Dahl's individual plan: consent and drafting (the health nurse writes it) in the weeks
    after the establishment, adopted 375 days ago with its revision after eleven months, so the
    revision date passed 40 days ago (cockpit rule plan_revision_due). The revision starts with
    the evaluation, and waits at the health nurse's first step; the plan's measures run over two school
    years, so none is overdue."""
    ids = _member_ids(services, case_id)
    with _days_ago(services, 392):
        _complete(services, case_id, "plan_consent", {
            "consent_decision": "gitt", "signed_by": "Hege Dahl", "signed_how": "paper",
            "signed_on": services.clock.today().isoformat(),
            "participants": [ids["Kari Koordinator"], ids["Ola Helsesykepleier"], ids["Hege Dahl"]],
            "writer_member_id": ids["Ola Helsesykepleier"]}, users["kari"])
    with _days_ago(services, 385):
        _complete(services, case_id, "goals", {
            "whats_important": "Å ha en venn på skolen, og at lærerne forstår når jeg blir sliten.",
            "needs": "Pauser i skoledagen og faste voksne å snakke med.",
            "new_goals": [{"term": "long", "text": "Sofie trives på skolen fram til videregående"},
                          {"term": "short", "text": "Sofie har en fast venn å være sammen med i friminuttene"}]},
            users["ola"])
        goals = _plan_goal_ids(services, case_id)
        _complete(services, case_id, "measures", {"new_measures": [
            {"description": "Samtaler med helsesykepleier", "goal_id": goals[1], "scope": "Én samtale i måneden",
             "responsible_member_id": ids["Ola Helsesykepleier"],
             "deadline": (services.clock.today() + timedelta(days=420)).isoformat()},
            {"description": "Kartlegging hos PPT før valg av videregående", "goal_id": goals[0],
             "responsible_member_id": ids["Ola Helsesykepleier"],
             "deadline": (services.clock.today() + timedelta(days=480)).isoformat()}]}, users["ola"])
    with _days_ago(services, 375):
        adopted_on = services.clock.today()
        _complete(services, case_id, "adopt", {
            "decision": "adopt", "agreed_with_person": True, "period_from": adopted_on.isoformat(),
            "revision_due_on": (adopted_on + timedelta(days=335)).isoformat(),
            "note": "Vedtatt sammen med Sofie og Hege Dahl."}, users["kari"])


def _demo_planned_first_meeting(services, users: dict, units: dict, appoint: dict, consent: dict, wish) -> None:
    """A group established today whose first meeting is planned and its agenda due: a meeting
    episode past its planning step (beside Sofie Dahl's, which waits at planning)."""
    today = services.clock.today()
    day = today + timedelta(days=22)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    case_id = wish("Ida Aas", "2015-06-12", by_name="Kristin Aas")
    _establish_quickly(services, case_id, users, units, appoint, consent, day)
    services.engine.start_due_scheduled()  # the first meeting's planning starts at once, so close to it
    ids = _member_ids(services, case_id)
    _complete(services, case_id, "plan", {"meeting_date": day.isoformat(), "meeting_time": "09:00",
                                          "duration_minutes": 90, "place": "Helsestasjonen",
                                          "minute_taker_member_id": ids["Ola Helsesykepleier"]}, users["kari"])
    _complete(services, case_id, "needs", {"persons_needs": "Ida vil snakke om fritiden.", "person_attends": "ja"},
              users["kari"])


@contextmanager
def _days_ago(services, days: int):
    """Run the block with the clock ``days`` back (the worker is not running meanwhile)."""
    back = timedelta(days=days)
    services.clock.advance(-back)
    try:
        yield
    finally:
        services.clock.advance(back)


def _demo_stuck_groups(services, users: dict, units: dict, appoint: dict, consent: dict, wish) -> None:
    """Groups that stand still, so each of the supervisors' rules (webapp/supervision/rules.py)
    has a case. Seeded last: the worker has not run since, so nothing here has been picked up."""
    # Oskar Lund: a coordinator was appointed six weeks ago, and the family has not consented since
    with _days_ago(services, 45):
        waiting = wish("Oskar Lund", "2014-02-17", by_name="Siv Lund")
        _complete(services, waiting, "appoint", appoint, users["ke"])

    # Noah Strand: his coordinator left the municipality while the group was being established
    # (consent given, the health nurse's mandate confirmed); the administrator deactivated her
    # without a successor, so the group has no coordinator and the step "is an individual plan
    # needed?" has nobody who holds its role (a supervisor may give it to the health nurse)
    with services.db.transaction() as s:
        tone = create_user(s, "tone", "Tone Tidligere", DEMO_PASSWORD, roles=("staff",), at=services.clock.now(),
                           email="tone@demo.kommune.no")
    with _days_ago(services, 10):
        orphaned = wish("Noah Strand", "2017-08-08", by_name="Frode Strand")
        _complete(services, orphaned, "appoint", {**appoint, "coordinator_user_id": str(tone.id),
                                                  "persons_wish": "Ingen særskilte ønsker."}, users["ke"])
        _complete(services, orphaned, "consent", {**consent, "signed_on": services.clock.today().isoformat()},
                  tone.id)
        _complete(services, orphaned, "propose", {"agreed_with_person": True, "members": [
            {"user_id": str(users["ola"]), "name": "Ola Helsesykepleier", "unit_id": str(units["Helsestasjonen"])}]},
            tone.id)
        _complete(services, orphaned, "confirm", {"participates": "ja", "mandate": "Helseoppfølging."}, users["ola"])
    with services.db.transaction() as s:
        deactivate_user(s, s.get(User, tone.id), successor=None, reassign=services.engine.reassign,
                        outbox_for=lambda case_id: Outbox(s, services.clock, case_id), at=services.clock.now(),
                        actor_id=users["admin"])

    # Vilde Holm: consented eleven months ago, when the municipality let a consent run for twelve
    # months (it has since gone back to "until withdrawn"); the establishment stalled at the
    # member's confirmation, and the consent is now due for renewal
    with _days_ago(services, 340):
        with services.db.transaction() as s:
            change_setting(s, "consent_valid_months", 12, at=services.clock.now(), actor_id=users["admin"])
        renewal = wish("Vilde Holm", "2001-12-05", by="person")
        _complete(services, renewal, "appoint", {**appoint, "coordinator_kind": "coordinator"}, users["ke"])
        _complete(services, renewal, "consent", {**consent, "signed_by": "Vilde Holm", "signed_how": "in_person",
                                                  "signed_on": services.clock.today().isoformat()}, users["kari"])
        _complete(services, renewal, "propose", {"agreed_with_person": True, "members": [
            {"name": "Rune NAV", "unit_id": str(units["NAV"]), "email": "rune@nav.demo.no"}]}, users["kari"])
    with _days_ago(services, 200):
        with services.db.transaction() as s:
            change_setting(s, "consent_valid_months", 0, at=services.clock.now(), actor_id=users["admin"])
    # A step of Vilde Holm's establishment failed three days ago and waits for a retry. No step of
    # the process library fails on demo data, so the incident is recorded here the way the engine
    # records a failed step (an open incident, the instance marked "incident", the audit event);
    # "Prøv igjen" on the supervision page runs the instance's engine steps again, which now go
    # through, and resolves it.
    with services.db.transaction() as s:
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.case_id == renewal)
                            .order_by(ProcessInstance.id).limit(1))
        now = services.clock.now() - timedelta(days=3)
        incident = Incident(instance_id=instance.id, case_id=renewal, status="open", created_at=now,
                            task_spec="record_confirmations",
                            message="Fagsystemet svarte ikke innen tidsfristen.", pending={"action": "fire"})
        s.add(incident)
        instance.status, instance.updated_at = "incident", now
        s.flush()
        record(s, "incident_opened", at=now, actor_id=None, case_id=renewal, instance_id=instance.id,
               incident_id=incident.id, message=incident.message, task="record_confirmations")

    # Amir Haddad (adult): active five weeks, the first meeting six weeks ahead; the coordinator
    # planned his move to his own flat a year ahead. Its review (a year before the move, setting
    # transition_review_months) fell due three weeks ago while the worker was off, so it has not
    # started; the demo's worker starts it in its first round.
    with _days_ago(services, 35):
        moving = wish("Amir Haddad", "1999-04-20", by="person")
        _establish_quickly(services, moving, users, units, {**appoint, "coordinator_kind": "coordinator"},
                           {**consent, "signed_by": "Amir Haddad"}, services.clock.today() + timedelta(days=77))
        add_transition(services, moving, kind="own_home", description="Amir flytter til egen leilighet.",
                       on_date=services.clock.today() + timedelta(days=380), actor_id=users["kari"])


def seed(app: Flask) -> bool:
    """Create demo users, units and cases once. Returns False if already seeded."""
    services = app.extensions["ansvarsgruppe"]
    with services.db.transaction() as s:
        if s.scalar(select(User.id).where(User.username == "kari")) is not None:
            return False
        now = services.clock.now()
        users = {}
        for username, name, roles, _description in DEMO_USERS:
            users[username] = create_user(s, username, name, DEMO_PASSWORD, roles=roles, at=now,
                                          email=f"{username}@{'eksempel.no' if 'citizen' in roles else 'demo.kommune.no'}").id
        units = {}
        for name, kind in UNITS:
            unit = Unit(name=name, kind=kind)
            s.add(unit)
            s.flush()
            units[name] = unit.id
    today = services.clock.now().date()

    def wish(name, born, by="guardian", by_name=None):
        return register(services, {
            "full_name": name, "birth_date": born, "requested_by_kind": by, "requested_by_name": by_name,
            "wish": "Familien ønsker at tjenestene samarbeider bedre om oppfølgingen.",
            "guardians": [{"name": by_name, "kind": "guardian"}] if by_name else []}, actor_id=users["ola"])[0]

    appoint = {"coordinator_user_id": str(users["kari"]), "coordinator_kind": "child_coordinator",
               "wish_weighed": True, "persons_wish": "Ønsker Kari, som familien kjenner."}
    consent = {"consent_decision": "gitt", "statement_composition": True, "statement_confidential": True,
               "statement_registration": True, "statement_voluntary": True, "signed_by": "Foresatte",
               "signed_how": "paper", "signed_on": today.isoformat()}

    wish("Nora Nilsen", "2021-03-14", by_name="Lise Nilsen")  # waits for the coordinating unit

    awaiting = wish("Emil Hansen", "2016-09-02", by_name="Tor Hansen")
    _complete(services, awaiting, "appoint", appoint, users["ke"])  # waits for consent

    establishing = wish("Emma Berg", "2019-05-20", by_name="Anne Berg")
    _complete(services, establishing, "appoint", appoint, users["ke"])
    _complete(services, establishing, "consent", consent, users["kari"])
    _complete(services, establishing, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["ola"]), "name": "Ola Helsesykepleier", "unit_id": str(units["Helsestasjonen"])},
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(units["Solbakken skole"])}]},
        users["kari"])  # Ola and Siri have mandates to confirm

    # Jonas Lie's group was established seven weeks ago: its first meeting was held three weeks
    # after that, and its minutes written after the meeting (never before it); its individual plan
    # was written in the next fortnight and adopted two weeks ago; the next meeting is in three weeks
    back = timedelta(days=49)
    offset = services.clock.now() - datetime.now(timezone.utc)
    services.clock.advance(-back)
    try:
        active = _demo_active_group(services, wish, users, units, appoint, consent, today)
    finally:
        services.clock.set(datetime.now(timezone.utc) + offset)
    services.engine.fire_due_timers()  # the overdue measure's reminder, once; the next meeting's planning
    _demo_next_meeting(services, active, users)
    report_deviation(services, active, {
        "title": "Innkallingen kom ikke fram til fastlegen",
        "description": "Fastlegen fikk ikke innkallingen til møtet fordi adressen var feil i fagsystemet.",
        "happened_on": today.isoformat()}, reporter_id=users["siri"], reporter_name="Siri Skole")

    _demo_year_old_group(services, users, units, appoint, consent, wish)
    _demo_planned_first_meeting(services, users, units, appoint, consent, wish)

    refused = wish("Maja Moe", "2014-11-11", by_name="Eva Moe")
    _complete(services, refused, "appoint", appoint, users["ke"])
    _complete(services, refused, "consent", {"consent_decision": "nektet", "signed_by": "Eva Moe",
                                             "signed_how": "in_person", "signed_on": today.isoformat(),
                                             "refusal_reason": "Familien ønsker å vente et halvt år."},
              users["kari"])

    _demo_stuck_groups(services, users, units, appoint, consent, wish)
    _link_citizens(services, users)
    return True


def _link_citizens(services, users: dict) -> None:
    """The demo's person and guardian logins, linked to their member rows once the groups' history
    is written (as a first ID-porten login links them)."""
    with services.db.transaction() as s:
        for username, (person_name, role) in DEMO_CITIZENS.items():
            member = s.scalar(select(CaseMember).join(Case, Case.id == CaseMember.case_id)
                              .join(Person, Person.id == Case.person_id)
                              .where(Person.full_name == person_name, CaseMember.role == role).limit(1))
            member.user_id = users[username]
