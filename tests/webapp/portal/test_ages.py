"""The age rules with a moved clock: the person's own access from ``own_access_age`` (16), and
the guardians' from ``guardian_access_consent_age`` (16) only with the young person's yes."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from tests.webapp.cases.helpers import establish, open_task
from tests.webapp.meetings.helpers import plan
from tests.webapp.portal.helpers import citizen, citizen_client, link, post, user_id
from tests.webapp.supervision.clock import noon, town_at_start
from webapp.cases.models import Case, Consent
from webapp.portal.forms import STATEMENTS
from webapp.cases.own_access import person_side
from webapp.settings.operations import change_setting

#: Emma turns 16 three days after START (31 August 2026)
BIRTHDAY = date(2026, 9, 3)
BORN = "2010-09-03"


def _young_persons_case(services):
    users = town_at_start(services)
    case_id = establish(services, users, born=BORN)
    citizen(services, "emma", "Emma Berg", email="emma@example.org")
    citizen(services, "anne", "Anne Berg", email="anne@example.org")
    link(services, case_id, "bruker", "emma")
    link(services, case_id, "foresatt", "anne")
    return users, case_id


def _may_see(services, case_id):
    with services.db.session() as s:
        return s.get(Case, case_id).guardians_may_see


def test_the_person_and_the_guardian_around_the_sixteenth_birthday(app, services):
    users, case_id = _young_persons_case(services)
    emma, anne = citizen_client(app, "emma"), citizen_client(app, "anne")
    # 15: the guardian follows the group; the person sees that it exists, and why not more
    home = emma.get("/min-side")
    assert home.status_code == 200 and "Du får se saken selv når du blir eldre" in home.text
    assert f"/min-side/saker/{case_id}" not in home.text
    assert emma.get(f"/min-side/saker/{case_id}").status_code == 404
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 200
    with services.db.session() as s:
        assert person_side(s, case_id, services.clock.today()) == [user_id(services, "anne")]

    services.clock.set(noon(BIRTHDAY + timedelta(days=1)))
    emma, anne = citizen_client(app, "emma"), citizen_client(app, "anne")  # a new day, new logins
    # 16: the person sees the group (the home page leads straight there) and decides for the guardians
    landing = emma.get("/min-side", follow_redirects=True)
    assert landing.request.path == f"/min-side/saker/{case_id}" and "Foresattes innsyn" in landing.text
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 404
    home = anne.get("/min-side")
    assert "De har ikke gitt deg innsyn" in home.text and f"/min-side/saker/{case_id}" not in home.text
    with services.db.session() as s:
        assert person_side(s, case_id, services.clock.today()) == [user_id(services, "emma")]

    url = f"/min-side/saker/{case_id}/foresatte"
    assert anne.get(url).status_code == 404  # only the young person decides
    assert emma.get(url).status_code == 200
    assert post(emma, url, {}).status_code == 400 and _may_see(services, case_id) is None
    assert post(emma, url, {"guardians_may_see": "ja"}).status_code == 302
    assert _may_see(services, case_id) is True
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 200
    assert re.search(r'value="ja"\s+checked', emma.get(url).text)  # the answer shown again
    # the guardian sees, but no longer acts for the person: the consent is Emma's now
    assert "Trekk samtykket tilbake" not in anne.get(f"/min-side/saker/{case_id}/samtykke").text
    assert anne.get(f"/min-side/saker/{case_id}/samtykke/trekk").status_code == 404
    assert emma.get(f"/min-side/saker/{case_id}/samtykke/trekk").status_code == 200

    assert post(emma, url, {"guardians_may_see": "nei"}).status_code == 302
    assert _may_see(services, case_id) is False
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 404


def test_the_wishes_step_follows_the_age_rules(app, services):
    users, case_id = _young_persons_case(services)
    services.clock.set(noon(BIRTHDAY + timedelta(days=1)))
    plan(services, users, case_id)
    assert open_task(services, case_id, "needs").assignee_id == user_id(services, "emma")
    emma = citizen_client(app, "emma")
    assert "Skriv dine ønsker og behov før møtet" in emma.get(f"/min-side/saker/{case_id}").text


def test_own_access_age_is_a_setting(app, services):
    users, case_id = _young_persons_case(services)
    emma = citizen_client(app, "emma")
    assert emma.get(f"/min-side/saker/{case_id}").status_code == 404
    with services.db.transaction() as s:
        change_setting(s, "own_access_age", 15, at=services.clock.now(), actor_id=users["sara"])
    # 15 is enough now; the guardian still sees (under the guardians' age) but Emma gives the consent
    page = emma.get(f"/min-side/saker/{case_id}")
    assert page.status_code == 200 and "Foresattes innsyn" not in page.text
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 200
    assert emma.get(f"/min-side/saker/{case_id}/samtykke/trekk").status_code == 200
    assert anne.get(f"/min-side/saker/{case_id}/samtykke/trekk").status_code == 404


def test_who_gives_the_consent_follows_the_setting(app, services):
    users = town_at_start(services)
    case_id = establish(services, users, until="appointed", born=BORN)
    citizen(services, "emma", "Emma Berg", email="emma@example.org")
    citizen(services, "anne", "Anne Berg", email="anne@example.org")
    link(services, case_id, "bruker", "emma")
    link(services, case_id, "foresatt", "anne")
    with services.db.transaction() as s:
        change_setting(s, "own_access_age", 15, at=services.clock.now(), actor_id=users["sara"])
    anne = citizen_client(app, "anne")
    page = anne.get(f"/min-side/saker/{case_id}/samtykke")
    assert page.status_code == 200 and "fra 15 år" in page.text and 'name="statement_voluntary"' not in page.text
    refused = post(anne, f"/min-side/saker/{case_id}/samtykke", {n: "on" for n in STATEMENTS})
    assert refused.status_code == 302
    emma = citizen_client(app, "emma")
    assert 'name="statement_voluntary"' in emma.get(f"/min-side/saker/{case_id}/samtykke").text
    assert post(emma, f"/min-side/saker/{case_id}/samtykke", {n: "on" for n in STATEMENTS}).status_code == 302
    with services.db.session() as s:
        (consent,) = s.scalars(select(Consent).where(Consent.case_id == case_id)).all()
        assert (consent.given_by_user_id, consent.signed_by) == (user_id(services, "emma"), "Emma Berg")
