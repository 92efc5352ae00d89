"""The person's and guardians' own pages: citizen accounts (local password logins, as in the
demo; ID-porten logins are tested in tests/webapp/auth/test_idporten.py) linked to member rows."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_token
from tests.webapp.cases.helpers import APPOINT, CONSENT, FIRST_MEETING_IN, PASSWORD, complete, establish, wish
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import CaseMember
from webapp.cases.operations import current_coordinator
from webapp.cases.roles import PERSON_LANE


def citizen(services, username: str, full_name: str, *, email: str | None = None, language: str | None = None) -> int:
    """A local citizen account (role "citizen"); returns its id."""
    with services.db.transaction() as s:
        user = create_user(s, username, full_name, PASSWORD, roles=("citizen",), at=services.clock.now(),
                           email=email)
        user.language = language
        return user.id


def link(services, case_id: int, role: str, username: str) -> int:
    """Link the citizen ``username`` to the case's active member row of ``role`` (bruker, foresatt),
    as a first ID-porten login does (portal.operations.link_citizen): the person's open steps move
    from the coordinator to them. Returns the member's id."""
    with services.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        member = s.scalar(select(CaseMember).where(CaseMember.case_id == case_id, CaseMember.role == role,
                                                   CaseMember.active.is_(True)).order_by(CaseMember.id).limit(1))
        assert user is not None and member is not None, (username, role)
        member.user_id = user.id
        coordinator = current_coordinator(s, case_id)
        if coordinator is not None:
            services.engine.reassign(s, case_id, lane=PERSON_LANE, from_user_id=coordinator.user_id)
        return member.id


def citizen_client(app, username: str):
    """A test client logged in as the citizen ``username`` (local password); ``client.token``
    holds a CSRF token (from their home page: staff pages send a citizen home)."""
    client = app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"username": username, "password": PASSWORD,
                                              "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302, response.text
    client.token = csrf_token(client.get("/min-side", follow_redirects=True).text)
    return client


def post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": client.token})


def guardian_case(services, users, *, until: str = "active", **kwargs) -> int:
    """A case from cases.helpers.establish whose guardian Anne Berg logs in as "anne"."""
    case_id = establish(services, users, until=until, **kwargs)
    citizen(services, "anne", "Anne Berg", email="anne@example.org")
    link(services, case_id, "foresatt", "anne")
    return case_id


def user_id(services, username: str) -> int:
    with services.db.session() as s:
        return s.scalar(select(User.id).where(User.username == username))


def establish_named(services, users, name: str, born: str = "2018-02-02") -> int:
    """An active group for another child (``name``), walked as cases.helpers.establish walks one."""
    case_id = wish(services, users, name=name, born=born)
    complete(services, case_id, "appoint", {**APPOINT, "coordinator_user_id": str(users["kari"])}, users["ke"])
    complete(services, case_id, "consent", CONSENT, users["kari"])
    complete(services, case_id, "propose", {"agreed_with_person": True, "members": [
        {"user_id": str(users["siri"]), "name": "Siri Skole", "unit_id": str(users["unit_school"])}]},
        users["kari"])
    complete(services, case_id, "confirm", {"participates": "ja", "mandate": "Skolen"}, users["siri"], users["siri"])
    complete(services, case_id, "plan_need", {"plan_need": "no"}, users["kari"])
    first = services.clock.today() + FIRST_MEETING_IN
    complete(services, case_id, "first_meeting", {"first_meeting_date": first.isoformat()}, users["kari"])
    return case_id
