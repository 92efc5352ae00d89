"""The plan pages: the plan, its versions, what changed, a version's PDF, handing a relay log over.
Content only with full access (a 404 that reveals nothing otherwise), every read access-logged,
bad input answered in Norwegian with 400 and the input kept."""
from __future__ import annotations

import pytest
from flask import render_template
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases import helpers as case_helpers
from tests.webapp.cases.helpers import establish
from tests.webapp.meetings.helpers import members
from tests.webapp.plans.helpers import adopted_plan, plan_of
from webapp.audit.models import AccessLogEntry
from webapp.plans.models import Plan, PlanVersion, RelayHandover
from webapp.settings.operations import change_setting


def pages_of(services, case_id, user_id) -> set[str]:
    with services.db.session() as s:
        return set(s.scalars(select(AccessLogEntry.page).where(AccessLogEntry.case_id == case_id,
                                                               AccessLogEntry.user_id == user_id)))


def test_the_coordinator_reads_the_plan_its_versions_changes_and_pdfs(app, services, users, case_id):
    adopted_plan(services, users, case_id)
    kari = login_client(app, "kari")
    page = kari.get(f"/saker/{case_id}/plan")
    assert page.status_code == 200
    text = page.text
    for expected in ("Individuell plan", "Å ha venner", "Emma går på skolen sammen med vennene sine",
                     "Vennegruppe i klassen", "Assistent i friminuttene", "Alle friminutt", "Fast assistent",
                     "Samarbeid med PPT", "Anne Berg", "Vedtatt"):
        assert expected in text, expected
    # the person's own words first, the long-term goal before the short-term one, each measure under its goal
    order = [text.index(t) for t in ("Hva er viktig for deg?", "Langsiktige mål", "Vennegruppe i klassen",
                                     "Kortsiktige mål", "Assistent i friminuttene", "Samarbeid med PPT", "Samtykke")]
    assert order == sorted(order)
    assert f"/saker/{case_id}/plan/versjoner/3.pdf" in text and f"/saker/{case_id}/plan/versjoner" in text

    history = kari.get(f"/saker/{case_id}/plan/versjoner")
    assert history.status_code == 200
    assert "utkast" in history.text and "vedtatt" in history.text and "Første plan" in history.text
    assert "Arkivert PDF" in history.text and f'action="/saker/{case_id}/plan/endringer"' in history.text

    diff = kari.get(f"/saker/{case_id}/plan/endringer?fra=1&til=2")
    assert diff.status_code == 200
    assert "Nye tiltak" in diff.text and "Vennegruppe i klassen" in diff.text
    # in either order: the older version against the newer
    diff = kari.get(f"/saker/{case_id}/plan/endringer?fra=3&til=2")
    assert diff.status_code == 200 and "Endringer fra versjon 2 til versjon 3" in diff.text
    assert "Under utarbeiding" in diff.text and "Neste revisjon" in diff.text

    archived = kari.get(f"/saker/{case_id}/plan/versjoner/3.pdf")
    assert archived.status_code == 200 and archived.mimetype == "application/pdf"
    with services.db.session() as s:
        stored = s.scalar(select(PlanVersion.archived_pdf).where(PlanVersion.number == 3))
    assert archived.data == stored
    draft = kari.get(f"/saker/{case_id}/plan/versjoner/1.pdf")  # not archived: rendered now
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF")
    assert kari.get(f"/saker/{case_id}/plan/versjoner/9.pdf").status_code == 404
    assert kari.get(f"/saker/{case_id}/plan/versjoner/99999999999999999999.pdf").status_code == 404

    assert {"plan", "plan_history", "plan_diff", "plan_pdf"} <= pages_of(services, case_id, users["kari"])


def test_register_only_and_outside_users_get_404(app, services, users, case_id):
    adopted_plan(services, users, case_id)
    for who in ("ke", "sara", "ola"):
        client = login_client(app, who)
        for url in (f"/saker/{case_id}/plan", f"/saker/{case_id}/plan/versjoner",
                    f"/saker/{case_id}/plan/endringer?fra=1&til=3", f"/saker/{case_id}/plan/versjoner/3.pdf"):
            response = client.get(url)
            assert response.status_code == 404, (who, url)
            assert "Emma går" not in response.text and "Vennegruppe" not in response.text
        assert client.post(f"/saker/{case_id}/plan/stafett", data={"to_member_id": "1", "reason": "x",
                                                                   "csrf_token": client.token}).status_code == 404
        assert not {"plan", "plan_history", "plan_diff", "plan_pdf"} & pages_of(services, case_id, users[who])
    # a member with consent reads it
    assert login_client(app, "siri").get(f"/saker/{case_id}/plan").status_code == 200


@pytest.mark.parametrize("query, message", [
    ("", "Velg to versjoner å sammenligne"),
    ("?fra=1", "Velg to versjoner å sammenligne"),
    ("?fra=en&til=to", "Velg to versjoner å sammenligne"),
    ("?fra=-1&til=2", "Velg to versjoner å sammenligne"),
    ("?fra=0&til=2", "Velg to versjoner å sammenligne"),
    ("?fra=1&til=99999999999999999999", "Velg to versjoner å sammenligne"),
    ("?fra=%D9%A3&til=1", "Velg to versjoner å sammenligne"),  # an Arabic-Indic digit three
    ("?fra=2&til=2", "Velg to forskjellige versjoner"),
    ("?fra=1&til=42", "Versjon 42 finnes ikke"),
])
def test_bad_diff_parameters_are_a_400_in_norwegian(app, services, users, case_id, query, message):
    adopted_plan(services, users, case_id)
    kari = login_client(app, "kari")
    response = kari.get(f"/saker/{case_id}/plan/endringer{query}")
    assert response.status_code == 400 and message in response.text
    assert 'name="fra"' in response.text  # the chooser is there to try again


def test_a_group_without_a_plan(app, services, users):
    case_id = establish(services, users, until="proposed")
    kari = login_client(app, "kari")
    page = kari.get(f"/saker/{case_id}/plan")
    assert page.status_code == 200 and "ingen individuell plan" in page.text
    assert kari.get(f"/saker/{case_id}/plan/versjoner").status_code == 404
    assert kari.get(f"/saker/{case_id}/plan/endringer?fra=1&til=2").status_code == 404


def test_the_case_panel_shows_register_users_only_that_a_plan_exists(app, services, users, case_id):
    adopted_plan(services, users, case_id)
    plan = plan_of(services, case_id)
    with services.db.session() as s:
        case = s.get(Plan, plan.id).case_id
    with app.test_request_context():
        register = render_template("plans/_case_panel.html", plan=plan, full=False, case={"id": case})
        full = render_template("plans/_case_panel.html", plan=plan, full=True, case={"id": case})
    assert "Individuell plan" in register and "Vedtatt" in register
    assert plan.revision_due_on.strftime("%d.%m.%Y") in register and plan.adopted_at is not None
    assert f"/saker/{case_id}/plan" not in register and "Emma går" not in register
    assert f"/saker/{case_id}/plan" in full
    with app.test_request_context():
        none = render_template("plans/_case_panel.html", plan=None, full=True, case={"id": case})
    assert "ingen individuell plan" in none


# --- the relay log ----------------------------------------------------------------------------

@pytest.fixture
def relay_case(services, users, monkeypatch):
    """A group led by a stafettholder (BTI), whose plan episode keeps a relay log; Siri holds it."""
    with services.db.transaction() as s:
        change_setting(s, "uses_relay_log", True, at=services.clock.now(), actor_id=None)
    monkeypatch.setitem(case_helpers.APPOINT, "coordinator_kind", "relay_holder")
    case_id = establish(services, users, until="active")
    adopted_plan(services, users, case_id)
    plan = plan_of(services, case_id)
    assert plan.kind == "relay_log" and plan.holder_member_id == members(services, case_id)["Siri Skole"]
    return case_id


def state(services, case_id):
    with services.db.session() as s:
        plan = s.scalar(select(Plan).where(Plan.case_id == case_id))
        return plan.holder_member_id, plan.version_count, s.scalar(select(func.count(RelayHandover.id)))


def test_the_relay_log_is_handed_over_with_a_reason(app, services, users, relay_case):
    case_id = relay_case
    ids = members(services, case_id)
    siri = login_client(app, "siri")  # the stafettholder
    page = siri.get(f"/saker/{case_id}/plan")
    assert page.status_code == 200 and "Stafettlogg" in page.text and "Stafettholder" in page.text
    assert "Overfør stafetten" in page.text and "Stafetten er ikke overført ennå." in page.text
    _holder, versions, _count = state(services, case_id)

    response = siri.post(f"/saker/{case_id}/plan/stafett",
                         data={"to_member_id": str(ids["Kari Koordinator"]), "reason": "Emma bytter skole",
                               "csrf_token": siri.token})
    assert response.status_code == 302
    assert state(services, case_id) == (ids["Kari Koordinator"], versions + 1, 1)
    page = siri.get(f"/saker/{case_id}/plan")
    assert "Stafetten er overført til Kari Koordinator." in page.text
    history = page.text[page.text.index("Stafettholdere"):]
    assert "Siri Skole" in history and "Kari Koordinator" in history and "Emma bytter skole" in history
    assert "Overfør stafetten" not in page.text  # no longer the holder, not the coordinator
    assert siri.post(f"/saker/{case_id}/plan/stafett",
                     data={"to_member_id": str(ids["Siri Skole"]), "reason": "Tilbake",
                           "csrf_token": siri.token}).status_code == 404
    with services.db.session() as s:
        assert s.scalar(select(PlanVersion.source).order_by(PlanVersion.number.desc()).limit(1)) == "handover"
    # the coordinator hands it on
    kari = login_client(app, "kari")
    assert kari.post(f"/saker/{case_id}/plan/stafett",
                     data={"to_member_id": str(ids["Siri Skole"]), "reason": "Tilbake til skolen",
                           "csrf_token": kari.token}).status_code == 302
    assert state(services, case_id)[0] == ids["Siri Skole"]


def test_a_hand_over_without_csrf_or_with_bad_input_changes_nothing(app, services, users, relay_case):
    case_id = relay_case
    ids = members(services, case_id)
    kari = login_client(app, "kari")
    before = state(services, case_id)
    url = f"/saker/{case_id}/plan/stafett"

    refused = kari.post(url, data={"to_member_id": str(ids["Per Fastlege"]), "reason": "Uten token"})
    assert refused.status_code == 400 and "Skjemaet er utløpt" in refused.text

    attempts = [
        ({"to_member_id": "", "reason": "Bytter skole til høsten"}, "Velg hvem som skal overta stafetten."),
        ({"to_member_id": str(ids["Siri Skole"]), "reason": "Samme holder"}, "Velg hvem som skal overta stafetten."),
        ({"to_member_id": "999999", "reason": "Ukjent medlem"}, "Velg hvem som skal overta stafetten."),
        ({"to_member_id": "1; DROP TABLE plans", "reason": "Tull"}, "Velg hvem som skal overta stafetten."),
        ({"to_member_id": str(ids["Anne Berg"]), "reason": "Foresatte holder ikke stafetten"},
         "Velg hvem som skal overta stafetten."),
        ({"to_member_id": str(ids["Emma Berg"]), "reason": "Personen selv"}, "Velg hvem som skal overta stafetten."),
        ({"to_member_id": str(ids["Per Fastlege"]), "reason": "   "}, "Skriv hvorfor stafetten overføres."),
        ({"to_member_id": str(ids["Per Fastlege"]), "reason": "x" * 2001}, "Teksten er for lang"),
    ]
    for data, message in attempts:
        response = kari.post(url, data={**data, "csrf_token": kari.token})
        assert response.status_code == 400, data
        assert message in response.text, data
        assert "<details class=\"ds-details\" open>" in response.text
        if data["reason"].strip() and len(data["reason"]) < 100:
            assert data["reason"] in response.text  # the input is kept
        if data["to_member_id"] == str(ids["Per Fastlege"]):
            assert f'<option value="{ids["Per Fastlege"]}" selected>' in response.text
    assert state(services, case_id) == before
    assert "plan" in pages_of(services, case_id, users["kari"])
