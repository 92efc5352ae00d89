"""Taking part before a meeting on the person's own pages: matters, the person's wishes and
needs (the meeting's ``needs`` step in the person's lane), the reply, asking for a meeting."""
from __future__ import annotations


from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import complete, establish, open_task
from tests.webapp.meetings.helpers import meeting, plan
from tests.webapp.portal.helpers import citizen_client, guardian_case, post, user_id
from webapp.auth.models import User
from webapp.cases import identity
from webapp.cases.models import CaseMember
from webapp.cases.roles import PERSON_LANE
from webapp.meetings.models import Matter, MeetingReply, MeetingRequest
from webapp.outbox.models import OutboxMessage
from webapp.portal.operations import link_citizen

NEEDS = {"persons_needs": "Emma vil snakke om friminuttene", "person_attends": "ja"}


def _matters(services, meeting_id):
    with services.db.session() as s:
        return s.scalars(select(Matter).where(Matter.meeting_id == meeting_id).order_by(Matter.id)).all()


def test_matters_before_the_meeting(app, services, users):
    case_id = guardian_case(services, users)
    m = meeting(services, case_id)
    assert m.status == "planned"
    anne = citizen_client(app, "anne")
    url = f"/min-side/saker/{case_id}/moter/{m.id}/meld-sak"
    page = anne.get(f"/min-side/saker/{case_id}/moter/{m.id}")
    assert page.status_code == 200 and url in page.text
    form = anne.get(url)
    assert form.status_code == 200 and "Klage på ansatte eller tjenestens oppfølging" in form.text

    bad = post(anne, url, {"title": "", "description": "Om friminuttene", "screening": "none"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text and "Om friminuttene" in bad.text
    assert _matters(services, m.id) == []

    good = post(anne, url, {"title": "Friminuttene", "description": "Emma er alene ute", "screening": "none"})
    assert good.status_code == 302
    screened = post(anne, url, {"title": "Læreren er urettferdig", "screening": "complaint_staff"})
    assert screened.status_code == 302
    after = anne.get(screened.headers["Location"])
    assert "ansvarsgruppen kan ikke behandle den" in after.text
    assert "Ta saken direkte med den det gjelder eller tjenesten." in after.text

    kept, excluded = _matters(services, m.id)
    anne_id = user_id(services, "anne")
    assert (kept.title, kept.description, kept.submitted_by_id, kept.excluded_kind, kept.on_agenda) == \
        ("Friminuttene", "Emma er alene ute", anne_id, None, True)
    assert (excluded.submitted_by_id, excluded.excluded_kind, excluded.on_agenda) == (anne_id, "complaint_staff", False)
    mine = anne.get(f"/min-side/saker/{case_id}/moter/{m.id}").text
    assert "Friminuttene" in mine and "Læreren er urettferdig" in mine

    # the coordinator sets the agenda with the matters in view
    plan(services, users, case_id)
    complete(services, case_id, "needs", NEEDS, anne_id)
    step = open_task(services, case_id, "agenda")
    assert step.assignee_id == users["kari"]
    agenda = login_client(app, "kari").get(f"/oppgaver/{step.instance_id}/{step.task_id}")
    assert agenda.status_code == 200
    assert "Friminuttene" in agenda.text and "Læreren er urettferdig" in agenda.text
    assert "Emma vil snakke om friminuttene" in agenda.text

    # once the invitation has gone out, new matters wait for the next meeting
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Skolestart"}]},
             users["kari"])
    assert meeting(services, case_id).status == "invited"
    late = post(anne, url, {"title": "For sent", "screening": "none"})
    assert late.status_code == 302 and len(_matters(services, m.id)) == 2


def test_the_person_side_writes_the_wishes_before_the_meeting(app, services, users):
    case_id = guardian_case(services, users)  # linked before the meeting is planned
    plan(services, users, case_id)
    step = open_task(services, case_id, "needs")
    assert step.lane == PERSON_LANE and step.assignee_id == user_id(services, "anne")
    anne = citizen_client(app, "anne")
    url = f"/min-side/saker/{case_id}/onsker/{step.instance_id}/{step.task_id}"
    overview = anne.get(f"/min-side/saker/{case_id}")
    assert "Skriv barnets ønsker og behov før møtet" in overview.text and url in overview.text
    assert anne.get(url).status_code == 200

    bad = post(anne, url, {"persons_needs": "Mer tid i friminuttene", "person_attends": "nei"})  # no views
    assert bad.status_code == 400 and "Mer tid i friminuttene" in bad.text and 'aria-invalid="true"' in bad.text
    assert meeting(services, case_id).persons_needs is None

    done = post(anne, url, NEEDS)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/min-side/saker/{case_id}")
    assert meeting(services, case_id).persons_needs == NEEDS["persons_needs"]
    assert open_task(services, case_id, "needs") is None
    assert open_task(services, case_id, "agenda").assignee_id == users["kari"]
    assert "Skriv barnets ønsker" not in anne.get(f"/min-side/saker/{case_id}").text
    assert anne.get(url).status_code == 404  # done


def test_without_a_login_the_wishes_step_is_the_coordinators(app, services, users):
    case_id = establish(services, users)
    plan(services, users, case_id)
    step = open_task(services, case_id, "needs")
    assert step.lane == PERSON_LANE and step.assignee_id == users["kari"]
    kari = login_client(app, "kari")
    assert kari.get(f"/oppgaver/{step.instance_id}/{step.task_id}").status_code == 200


def test_a_guardians_first_login_takes_over_the_open_wishes_step(app, services, users):
    """portal.operations.link_citizen, as an ID-porten login runs it: the step that waited for
    the coordinator moves to the guardian, who completes it on her own pages."""
    case_id = establish(services, users)
    plan(services, users, case_id)
    assert open_task(services, case_id, "needs").assignee_id == users["kari"]
    digest = identity.digest("12048512345")
    with services.db.transaction() as s:
        s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.role == "foresatt")
                 ).national_id_digest = digest
    with services.db.transaction() as s:
        user = link_citizen(s, digest, at=services.clock.now(), reassign=services.engine.reassign)
        guardian_id = user.id
    step = open_task(services, case_id, "needs")
    assert step.assignee_id == guardian_id
    with services.db.session() as s:
        assert s.get(User, guardian_id).is_citizen
    services.engine.complete_task(step.instance_id, step.task_id, NEEDS, actor_id=guardian_id)
    assert meeting(services, case_id).persons_needs == NEEDS["persons_needs"]


def test_reply_and_ask_for_a_meeting(app, services, users):
    case_id = guardian_case(services, users)
    m = meeting(services, case_id)
    anne = citizen_client(app, "anne")
    url = f"/min-side/saker/{case_id}/moter/{m.id}/svar"
    assert post(anne, url, {"note": "Vi er bortreist"}).status_code == 400
    answered = post(anne, url, {"attends": "nei", "note": "Vi er bortreist"})
    assert answered.status_code == 302
    with services.db.session() as s:
        (reply,) = s.scalars(select(MeetingReply).where(MeetingReply.meeting_id == m.id)).all()
        member_id = reply.member_id
        assert (reply.attends, reply.note) == (False, "Vi er bortreist")
    assert "Du har svart: kommer ikke" in anne.get(f"/min-side/saker/{case_id}/moter/{m.id}").text

    url = f"/min-side/saker/{case_id}/be-om-mote"
    assert post(anne, url, {"reason": ""}).status_code == 400
    before = _outbox_ids(services)
    asked = post(anne, url, {"reason": "Emma har det vanskelig hjemme"})
    assert asked.status_code == 302
    with services.db.session() as s:
        (request,) = s.scalars(select(MeetingRequest).where(MeetingRequest.case_id == case_id)).all()
        assert (request.member_id, request.reason, request.handled_at) == \
            (member_id, "Emma har det vanskelig hjemme", None)
        sent = s.scalars(select(OutboxMessage).where(OutboxMessage.id.notin_(before))).all()
    (to_kari,) = [o for o in sent if o.recipient == "kari@example.org"]
    assert "vanskelig" not in to_kari.body and "vanskelig" not in to_kari.subject
    assert f"/saker/{case_id}" in to_kari.body
    assert "Du har bedt om et møte" in anne.get(f"/min-side/saker/{case_id}").text


def _outbox_ids(services):
    with services.db.session() as s:
        return list(s.scalars(select(OutboxMessage.id)))
