"""Supervisors' actions (/tilsyn/handlinger): retry, reassign, hand over, cancel, remind, one at a
time and on a selection; each audited with its reason, refused without one, register data only."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import establish, open_task
from webapp.audit.models import AuditEvent
from webapp.cases.models import Case
from webapp.cases.operations import add_member
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance
from webapp.outbox.models import OutboxMessage
from webapp.supervision.action_views import safe_next

REASON = "Handleren er rettet i versjon 3"


# ---------------------------------------------------------------------- helpers

def _episode(services, case_id, process_id="meeting") -> int:
    with services.db.session() as s:
        return s.scalar(select(ProcessInstance.id).join(ProcessDefinition)
                        .where(ProcessInstance.case_id == case_id, ProcessDefinition.process_id == process_id)
                        .order_by(ProcessInstance.id.desc()).limit(1))


def _incident(services, instance_id, task_spec="plan", *, status="incident", broken=False) -> int:
    """An open incident whose retry fires the timers again (and goes through, unless ``broken``:
    then the stored state cannot be read and the retry fails again)."""
    with services.db.transaction() as s:
        instance = s.get(ProcessInstance, instance_id)
        instance.status = status
        if broken:
            instance.state = {"unreadable": True}
        incident = Incident(instance_id=instance_id, status="open", task_spec=task_spec, pending={"action": "fire"},
                            message="handler failed: Emma er redd for skolestart", created_at=services.clock.now())
        s.add(incident)
        s.flush()
        return incident.id


def _incident_status(services, incident_id) -> str:
    with services.db.session() as s:
        return s.get(Incident, incident_id).status


def _events(services, kind):
    with services.db.session() as s:
        return [(e.actor_id, e.case_id, e.instance_id, e.detail) for e in
                s.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id))]


def _assignee(services, task_row_id):
    with services.db.session() as s:
        return s.get(OpenTask, task_row_id).assignee_id


def _second_coordinator(services, case_id, user_id, name="Ola Helse"):
    """A second holder of the coordinator's lane (as during a transition's overlap)."""
    with services.db.transaction() as s:
        add_member(s, s.get(Case, case_id), name, "koordinator", at=services.clock.now(), user_id=user_id)


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": client.token, "next": "/tilsyn/?feil_etter=x", **data})


def _flashes(client) -> str:
    return client.get("/tilsyn/").text


# ---------------------------------------------------------------------- retry

def test_retry_resolves_the_incident_and_audits_the_reason(app, services, users, case_id):
    incident_id = _incident(services, _episode(services, case_id))
    ke = login_client(app, "ke")
    response = _post(ke, f"/tilsyn/handlinger/hendelser/{incident_id}/prov-igjen", reason=REASON)
    assert response.status_code == 302 and response.headers["Location"] == "/tilsyn/?feil_etter=x"
    assert _incident_status(services, incident_id) == "resolved"
    [(actor, event_case, _instance, detail)] = _events(services, "supervision_retry")
    assert (actor, event_case, detail["reason"], detail["outcome"]) == (users["ke"], case_id, REASON, "done")
    assert "steget ble kjørt på nytt og gikk gjennom" in _flashes(ke)


def test_retry_without_a_reason_is_refused_and_nothing_changes(app, services, users, case_id):
    incident_id = _incident(services, _episode(services, case_id))
    ke = login_client(app, "ke")
    for reason in ("", "   ", "x" * 1001):
        page = _post(ke, f"/tilsyn/handlinger/hendelser/{incident_id}/prov-igjen", reason=reason)
        assert page.status_code == 400
        assert "begrunnelse" in page.text.lower() or "høyst 1000 tegn" in page.text
        assert "redd for skolestart" not in page.text  # the incident's message is content
    assert _incident_status(services, incident_id) == "open"
    assert _events(services, "supervision_retry") == []


def test_retry_all_of_one_kind_is_same_process_and_same_step(app, services, users, case_id):
    other_case = establish(services, users, until="active")
    first = _incident(services, _episode(services, case_id))
    second = _incident(services, _episode(services, other_case))
    # the same step name in another process is another kind; the instance has ended, it stays open
    other_kind = _incident(services, _episode(services, case_id, "establishment"), status="completed")
    sara = login_client(app, "sara")
    page = sara.get(f"/tilsyn/handlinger/hendelser/{first}/prov-igjen-alle?next=/tilsyn/")
    assert page.status_code == 200 and "samme prosess og samme steg" in page.text
    assert "Åpne hendelser av dette slaget: 2." in page.text
    response = _post(sara, f"/tilsyn/handlinger/hendelser/{first}/prov-igjen-alle", reason=REASON)
    assert response.status_code == 302
    assert [_incident_status(services, i) for i in (first, second, other_kind)] == ["resolved", "resolved", "open"]
    assert sorted(e[1] for e in _events(services, "supervision_retry")) == sorted([case_id, other_case])


# ---------------------------------------------------------------------- reassign

def test_reassign_page_lists_eligible_people_only_and_no_content(app, services, users, case_id):
    _second_coordinator(services, case_id, users["ola"])
    task = open_task(services, case_id, "plan")
    ke = login_client(app, "ke")
    page = ke.get(f"/tilsyn/handlinger/steg/{task.id}/tildel?next=/tilsyn/")
    assert page.status_code == 200
    assert "Ola Helse" in page.text and "Kari Koordinator" in page.text
    assert "Ulf Utenfor" not in page.text and "Siri Skole" not in page.text  # no coordinator's role
    assert "Planlegg møtet" in page.text
    assert "Bedre samarbeid" not in page.text  # the wish is content


def test_reassign_to_a_holder_of_the_role_is_done_and_audited(app, services, users, case_id):
    _second_coordinator(services, case_id, users["ola"])
    task = open_task(services, case_id, "plan")
    assert task.assignee_id == users["kari"]
    ke = login_client(app, "ke")
    response = _post(ke, f"/tilsyn/handlinger/steg/{task.id}/tildel", user_id=str(users["ola"]), reason=REASON)
    assert response.status_code == 302
    assert _assignee(services, task.id) == users["ola"]
    [(actor, event_case, instance, detail)] = _events(services, "supervision_reassign")
    assert (actor, event_case, instance) == (users["ke"], case_id, task.instance_id)
    assert (detail["from_user_id"], detail["to_user_id"], detail["reason"]) == (users["kari"], users["ola"], REASON)
    # Ola now finds the step in his inbox and may open it
    ola = login_client(app, "ola")
    assert ola.get(f"/oppgaver/{task.instance_id}/{task.task_id}").status_code == 200


def test_reassign_to_someone_without_the_role_is_refused_and_nothing_changes(app, services, users, case_id):
    task = open_task(services, case_id, "plan")
    ke = login_client(app, "ke")
    response = _post(ke, f"/tilsyn/handlinger/steg/{task.id}/tildel", user_id=str(users["ulf"]), reason=REASON)
    assert response.status_code == 302
    assert _assignee(services, task.id) == users["kari"]
    assert _events(services, "supervision_reassign") == []
    assert "Ulf Utenfor har ikke rollen «Koordinator» i saken. Ingenting er endret." in _flashes(ke)


def test_reassign_without_a_reason_or_a_person_keeps_the_input(app, services, users, case_id):
    _second_coordinator(services, case_id, users["ola"])
    task = open_task(services, case_id, "plan")
    ke = login_client(app, "ke")
    page = _post(ke, f"/tilsyn/handlinger/steg/{task.id}/tildel", user_id=str(users["ola"]), reason="")
    assert page.status_code == 400 and "Skriv en begrunnelse" in page.text
    assert f'value="{users["ola"]}" checked' in page.text
    page = _post(ke, f"/tilsyn/handlinger/steg/{task.id}/tildel", reason=REASON)
    assert page.status_code == 400 and "Velg personen" in page.text and REASON in page.text
    assert _assignee(services, task.id) == users["kari"]


# ---------------------------------------------------------------------- hand-over

def test_hand_over_gives_the_steps_the_successor_may_do(app, services, users, case_id):
    other_case = establish(services, users, until="active")
    _second_coordinator(services, case_id, users["ola"])  # Ola is a coordinator in the first case only
    first, second = open_task(services, case_id, "plan"), open_task(services, other_case, "plan")
    ke = login_client(app, "ke")
    page = ke.get("/tilsyn/handlinger/overlevering?next=/tilsyn/")
    # each group's meeting planning and its plan episode's consent step
    assert page.status_code == 200 and "Kari Koordinator (4 åpne steg)" in page.text
    response = _post(ke, "/tilsyn/handlinger/overlevering", from_user_id=str(users["kari"]),
                     to_user_id=str(users["ola"]), reason="Kari slutter 1. mars")
    assert response.status_code == 302
    assert (_assignee(services, first.id), _assignee(services, second.id)) == (users["ola"], users["kari"])
    events = _events(services, "supervision_handover")  # the first case's planning and plan consent
    assert len(events) == 2 and {(actor, event_case, detail["reason"]) for actor, event_case, _i, detail in events} == {
        (users["ke"], case_id, "Kari slutter 1. mars")}
    text = _flashes(ke)
    assert "2 steg er overlevert" in text and "Ola Helse har ikke rollen «Koordinator» i saken" in text
    with services.db.session() as s:  # roles in the groups and the account are left alone
        from webapp.auth.models import User
        assert s.get(User, users["kari"]).active


def test_hand_over_without_a_reason_is_refused(app, services, users, case_id):
    _second_coordinator(services, case_id, users["ola"])
    task = open_task(services, case_id, "plan")
    ke = login_client(app, "ke")
    page = _post(ke, "/tilsyn/handlinger/overlevering", from_user_id=str(users["kari"]),
                 to_user_id=str(users["ola"]), reason="")
    assert page.status_code == 400 and "Skriv en begrunnelse" in page.text
    assert _assignee(services, task.id) == users["kari"]


# ---------------------------------------------------------------------- cancel

def test_cancel_an_episode_with_a_reason(app, services, users, case_id):
    instance_id = _episode(services, case_id)
    ke = login_client(app, "ke")
    page = ke.get(f"/tilsyn/handlinger/episoder/{instance_id}/avbryt?next=/tilsyn/")
    assert page.status_code == 200 and 'name="reason"' in page.text
    assert "Bedre samarbeid" not in page.text
    assert _post(ke, f"/tilsyn/handlinger/episoder/{instance_id}/avbryt", reason="").status_code == 400
    response = _post(ke, f"/tilsyn/handlinger/episoder/{instance_id}/avbryt", reason="Startet ved en feil")
    assert response.status_code == 302
    with services.db.session() as s:
        assert s.get(ProcessInstance, instance_id).status == "cancelled"
        assert s.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)).all() == []
    [(actor, event_case, event_instance, detail)] = _events(services, "supervision_cancel")
    assert (actor, event_case, event_instance, detail["reason"]) == (users["ke"], case_id, instance_id,
                                                                     "Startet ved en feil")
    assert _events(services, "instance_cancelled")[-1][3]["reason"] == "Startet ved en feil"


# ---------------------------------------------------------------------- remind

def test_remind_the_coordinator_mails_no_content(app, services, users, case_id):
    sara = login_client(app, "sara")
    response = _post(sara, f"/tilsyn/handlinger/saker/{case_id}/paminn", reason="Møtet er ikke planlagt")
    assert response.status_code == 302
    with services.db.session() as s:
        [message] = s.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Påminnelse%"))).all()
        reference = s.get(Case, case_id).reference
    assert message.recipient == "kari@example.org" and reference in message.subject
    assert f"/saker/{case_id}" in message.body
    for content in ("Bedre samarbeid", "Møtet er ikke planlagt", "Emma"):
        assert content not in message.body and content not in message.subject
    [(actor, event_case, _instance, detail)] = _events(services, "supervision_reminder")
    assert (actor, event_case, detail["reason"], detail["outbox_message_id"]) == (
        users["sara"], case_id, "Møtet er ikke planlagt", message.id)


# ---------------------------------------------------------------------- selections

def test_bulk_retry_reports_each_incident(app, services, users, case_id):
    other_case = establish(services, users, until="active")
    good = _incident(services, _episode(services, case_id))
    failing = _incident(services, _episode(services, other_case), broken=True)
    resolved = _incident(services, _episode(services, case_id, "establishment"), status="completed")
    with services.db.transaction() as s:
        s.get(Incident, resolved).status = "resolved"
    ke = login_client(app, "ke")
    response = _post(ke, "/tilsyn/handlinger/utvalg", action="retry", reason=REASON,
                     incident=[str(good), str(failing), str(resolved), "999999", "x1"],
                     case=[str(case_id)])  # the other checkboxes are not this action's
    assert response.status_code == 302
    assert [_incident_status(services, i) for i in (good, failing, resolved)] == ["resolved", "open", "resolved"]
    outcomes = sorted((e[1], e[3]["outcome"]) for e in _events(services, "supervision_retry"))
    assert outcomes == sorted([(case_id, "done"), (other_case, "failed")])
    text = _flashes(ke)
    for expected in ("1 steg gikk gjennom", "gikk gjennom", "steget feilet igjen", "hendelsen var allerede løst",
                     "Hendelse 999999 finnes ikke"):
        assert expected in text
    with services.db.session() as s:
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("Påminnelse%"))).all() == []
    assert _events(services, "supervision_reminder") == []  # the checked case was not this action's


def test_bulk_reassign_asks_for_the_person_then_checks_each_step(app, services, users, case_id):
    other_case = establish(services, users, until="active")
    _second_coordinator(services, case_id, users["ola"])
    first, second = open_task(services, case_id, "plan"), open_task(services, other_case, "plan")
    ke = login_client(app, "ke")
    page = _post(ke, "/tilsyn/handlinger/utvalg", action="reassign", reason=REASON,
                 step=[str(first.id), str(second.id)])
    assert page.status_code == 200
    assert "Ola Helse" in page.text and "kan ta 1 av 2 steg" in page.text and REASON in page.text
    response = _post(ke, "/tilsyn/handlinger/utvalg", action="reassign", reason=REASON, confirm="1",
                     user_id=str(users["ola"]), step=[str(first.id), str(second.id)])
    assert response.status_code == 302
    assert (_assignee(services, first.id), _assignee(services, second.id)) == (users["ola"], users["kari"])
    assert [e[1] for e in _events(services, "supervision_reassign")] == [case_id]
    assert "Ola Helse har ikke rollen" in _flashes(ke)


def test_bulk_cancel_and_remind(app, services, users, case_id):
    instance_id = _episode(services, case_id)
    ke = login_client(app, "ke")
    page = _post(ke, "/tilsyn/handlinger/utvalg", action="cancel", reason="", instance=[str(instance_id)])
    assert page.status_code == 400 and f'name="instance" value="{instance_id}"' in page.text
    response = _post(ke, "/tilsyn/handlinger/utvalg", action="cancel", reason=REASON,
                     instance=[str(instance_id), str(instance_id)])
    assert response.status_code == 302
    assert len(_events(services, "supervision_cancel")) == 1
    response = _post(ke, "/tilsyn/handlinger/utvalg", action="remind", reason=REASON, case=[str(case_id), "424242"])
    assert response.status_code == 302
    assert [e[1] for e in _events(services, "supervision_reminder")] == [case_id]
    assert "Sak 424242 finnes ikke" in _flashes(ke)
    # nothing selected, or an unknown action: a message, nothing done
    _post(ke, "/tilsyn/handlinger/utvalg", action="remind", reason=REASON)
    _post(ke, "/tilsyn/handlinger/utvalg", action="delete", reason=REASON, case=[str(case_id)])
    text = _flashes(ke)
    assert "Velg minst én rad" in text and "Velg hva som skal gjøres" in text
    assert len(_events(services, "supervision_reminder")) == 1


# ---------------------------------------------------------------------- guards

def test_csrf_is_required(app, services, users, case_id):
    incident_id = _incident(services, _episode(services, case_id))
    ke = login_client(app, "ke")
    response = ke.post(f"/tilsyn/handlinger/hendelser/{incident_id}/prov-igjen", data={"reason": REASON})
    assert response.status_code == 400
    assert _incident_status(services, incident_id) == "open"
    assert _events(services, "supervision_retry") == []


def test_only_supervisors_reach_the_actions(app, services, users, case_id):
    incident_id = _incident(services, _episode(services, case_id))
    task = open_task(services, case_id, "plan")
    kari = login_client(app, "kari")  # the coordinator: no supervisor
    assert kari.get(f"/tilsyn/handlinger/steg/{task.id}/tildel").status_code == 404
    assert kari.get("/tilsyn/handlinger/overlevering").status_code == 404
    assert _post(kari, f"/tilsyn/handlinger/hendelser/{incident_id}/prov-igjen", reason=REASON).status_code == 404
    assert _post(kari, "/tilsyn/handlinger/utvalg", action="remind", reason=REASON,
                 case=[str(case_id)]).status_code == 404
    assert _incident_status(services, incident_id) == "open"
    assert app.test_client().get("/tilsyn/handlinger/overlevering").status_code == 302  # to the login


def test_a_bad_next_is_not_followed(app, services, users, case_id):
    ke = login_client(app, "ke")
    for bad in ("https://evil.example/tilsyn/", "//evil.example/tilsyn", "/saker/1", "/tilsynet", "\\\\evil",
                "javascript:alert(1)", "/tilsyn/\r\nLocation: x"):
        response = ke.post(f"/tilsyn/handlinger/saker/{case_id}/paminn",
                           data={"csrf_token": ke.token, "next": bad, "reason": REASON})
        assert response.status_code == 302 and response.headers["Location"] == "/tilsyn/", bad
    assert safe_next("/tilsyn/?steg_etter=abc") == "/tilsyn/?steg_etter=abc"
    assert safe_next("/tilsyn") == "/tilsyn"


def test_the_macros_for_the_cockpit_render_forms_that_post_here(app):
    with app.test_request_context("/tilsyn/"):
        from flask import render_template_string
        html = render_template_string(
            '{% import "supervision/_actions.html" as a %}{{ a.retry_form(5, "/tilsyn/") }}'
            '{{ a.retry_kind_link(5, "/tilsyn/") }}{{ a.reassign_link(6, "/tilsyn/") }}'
            '{{ a.cancel_link(7, "/tilsyn/") }}{{ a.remind_form(8, "/tilsyn/") }}{{ a.handover_link("/tilsyn/") }}'
            '{{ a.bulk_checkbox("step", 6, "Velg") }}{{ a.bulk_toolbar("/tilsyn/?steg_etter=x") }}')
    for expected in ('action="/tilsyn/handlinger/hendelser/5/prov-igjen"',
                     "/tilsyn/handlinger/hendelser/5/prov-igjen-alle",
                     "/tilsyn/handlinger/steg/6/tildel", "/tilsyn/handlinger/episoder/7/avbryt",
                     'action="/tilsyn/handlinger/saker/8/paminn"', "/tilsyn/handlinger/overlevering",
                     'form="bulk-actions" name="step" value="6"', 'id="bulk-actions"',
                     'action="/tilsyn/handlinger/utvalg"', 'name="next" value="/tilsyn/?steg_etter=x"'):
        assert expected in html, expected
    assert html.count('name="reason"') == 3 and html.count('name="csrf_token"') == 3
    for action in ("retry", "cancel", "remind", "reassign"):
        assert f'<option value="{action}">' in html


def test_an_orphaned_step_may_go_to_any_member_of_the_case(app, services, users, case_id):
    """Nobody holds the coordinator's role (deactivated without a successor): the step may be
    given to another active member of the case, named with their own role, until a coordinator
    is appointed."""
    from webapp.admin.operations import deactivate_user
    from webapp.auth.models import User
    from webapp.outbox.operations import Outbox
    task = open_task(services, case_id, "plan")
    with services.db.transaction() as s:
        deactivate_user(s, s.get(User, users["kari"]), successor=None, reassign=services.engine.reassign,
                        outbox_for=lambda case: Outbox(s, services.clock, case), at=services.clock.now(),
                        actor_id=users["ke"])
    with services.db.session() as s:
        assert s.get(OpenTask, task.id).orphaned
    ke = login_client(app, "ke")
    page = ke.get(f"/tilsyn/handlinger/steg/{task.id}/tildel?next=/tilsyn/")
    assert "Siri Skole" in page.text and "Kari Koordinator" not in page.text and "Ulf Utenfor" not in page.text
    response = _post(ke, f"/tilsyn/handlinger/steg/{task.id}/tildel", user_id=str(users["siri"]), reason=REASON)
    assert response.status_code == 302
    assert _assignee(services, task.id) == users["siri"]
