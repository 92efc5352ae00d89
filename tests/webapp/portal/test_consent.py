"""Digital consent on the person's own pages, and its withdrawal by them."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import open_task
from tests.webapp.portal.helpers import citizen_client, guardian_case, post, user_id
from webapp.cases.models import Case, Consent
from webapp.portal.forms import STATEMENTS

ALL = {name: "on" for name in STATEMENTS}


def _consents(services, case_id):
    with services.db.session() as s:
        return s.scalars(select(Consent).where(Consent.case_id == case_id).order_by(Consent.id)).all()


def _status(services, case_id):
    with services.db.session() as s:
        return s.get(Case, case_id).status


def test_guardian_gives_the_consent_digitally(app, services, users):
    case_id = guardian_case(services, users, until="appointed")
    anne = citizen_client(app, "anne")
    page = anne.get(f"/min-side/saker/{case_id}")
    assert page.status_code == 200 and "Samtykke trengs" in page.text and "Les og gi samtykke" in page.text

    form = anne.get(f"/min-side/saker/{case_id}/samtykke")
    assert form.status_code == 200
    for name in STATEMENTS:
        assert f'name="{name}"' in form.text
    assert "kan trekke samtykket tilbake når som helst" in form.text

    # one statement left unchecked: nothing saved, the checked ones kept, said in Norwegian
    partial = {**ALL}
    del partial["statement_voluntary"]
    refused = post(anne, f"/min-side/saker/{case_id}/samtykke", partial)
    assert refused.status_code == 400 and "Dette må bekreftes." in refused.text
    for name in STATEMENTS:
        box = re.search(rf'<input[^>]*name="{name}"[^>]*>', refused.text).group(0)
        assert ("checked" in box) == (name != "statement_voluntary"), box
        assert ('aria-invalid="true"' in box) == (name == "statement_voluntary"), box
    assert _consents(services, case_id) == [] and _status(services, case_id) != "establishing"

    given = post(anne, f"/min-side/saker/{case_id}/samtykke", ALL)
    assert given.status_code == 302 and given.headers["Location"].endswith(f"/min-side/saker/{case_id}")
    (consent,) = _consents(services, case_id)
    assert consent.given and consent.signed_how == "digital" and consent.signed_by == "Anne Berg"
    assert consent.given_by_user_id == user_id(services, "anne") and consent.assurance_level == "local"
    assert all(getattr(consent, name) for name in STATEMENTS)
    assert _status(services, case_id) == "establishing"
    assert open_task(services, case_id, "propose").assignee_id == users["kari"]
    # the record on the page says who, how and at which level
    record = anne.get(f"/min-side/saker/{case_id}/samtykke").text
    assert "digitalt, innlogget" in record and "local" in record and "Trekk samtykket tilbake" in record
    # and the coordinator's case page says so too
    staff = login_client(app, "kari").get(f"/saker/{case_id}").text
    assert "Gitt digitalt etter innlogging (sikkerhetsnivå: local)" in staff


def test_paper_consent_by_the_coordinator_still_works(app, services, users):
    case_id = guardian_case(services, users, until="consented")
    (consent,) = _consents(services, case_id)
    assert consent.signed_how == "paper" and consent.given_by_user_id is None and consent.assurance_level is None


def test_guardian_withdraws_the_consent(app, services, users):
    case_id = guardian_case(services, users, until="active")
    siri = login_client(app, "siri")
    assert siri.get(f"/saker/{case_id}").status_code == 200
    anne = citizen_client(app, "anne")
    assert anne.get(f"/min-side/saker/{case_id}/samtykke/trekk").status_code == 200

    empty = post(anne, f"/min-side/saker/{case_id}/samtykke/trekk", {"reason": "  "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text
    assert _status(services, case_id) == "active"

    done = post(anne, f"/min-side/saker/{case_id}/samtykke/trekk", {"reason": "Vi vil ikke mer"})
    assert done.status_code == 302
    (consent,) = _consents(services, case_id)
    assert consent.withdrawn_at is not None and consent.withdrawn_by_id == user_id(services, "anne")
    assert "Vi vil ikke mer" in consent.withdrawal_reason
    assert _status(services, case_id) == "consent_withdrawn"
    assert siri.get(f"/saker/{case_id}").status_code == 404
    # the guardian still sees the group's page and the consent's history, not the content
    assert anne.get(f"/min-side/saker/{case_id}").status_code == 200
    assert "Trukket tilbake" in anne.get(f"/min-side/saker/{case_id}/samtykke").text
    assert anne.get(f"/min-side/saker/{case_id}/samtykke/trekk").status_code == 404

