"""The profile catalogue, the preview of what a profile changes, applying it (audited, once), the
diagram variants, and the administrator's pages."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from tests.webapp.cases.helpers import PASSWORD
from tests.webapp.profiles.helpers import town
from webapp.audit.models import AuditEvent
from webapp.cli import main
from webapp.engine.library import check_library, read_directory
from webapp.engine.models import ProcessDefinition
from webapp.profiles.catalogue import PROFILES_DIR, ProfileError, all_profiles, load_profile, profile_names
from webapp.profiles.operations import apply, preview
from webapp.settings.defaults import DEFINITIONS
from webapp.settings.operations import get_setting

ROOT = Path(__file__).resolve().parents[3]
SEEDS = ROOT.parent / "shared" / "seeds"
FIVE = {"ostre-toten", "retningslinje-001", "salangen", "lund", "retningslinje-004"}


@pytest.fixture
def users(services):
    return town(services)


def _events(services, kind):
    with services.db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)).all()


def _versions(services, process_id):
    with services.db.session() as s:
        return s.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.process_id == process_id))


# --- the catalogue ---------------------------------------------------------------------------

def test_the_five_guidelines_ship_as_valid_profiles():
    profiles = {p.name: p for p in all_profiles()}
    assert set(profiles) == FIVE
    guidelines = sorted(p.guideline for p in profiles.values())
    assert [g[:3] for g in guidelines] == ["000", "001", "002", "003", "004"]
    for profile in profiles.values():
        if SEEDS.is_dir():
            assert (SEEDS / profile.guideline).is_file(), profile.guideline
        assert profile.settings and profile.description
        for entry in profile.settings:  # a known setting, an allowed value, and where it comes from
            assert DEFINITIONS[entry.key].allows(entry.value) and entry.source, (profile.name, entry.key)
    assert "individuell plan" in profiles["lund"].description  # what is not done yet is said


def test_every_shipped_variant_validates():
    """Every diagram variant passes the engine's validation with the library's forms and its own
    (what `ansvarsgruppe processes validate` checks)."""
    from handlers import REGISTRY
    from webapp.taskforms.providers import provider_names
    library_forms = read_directory(ROOT / "processes", ROOT / "forms").forms
    for name in profile_names():
        folder = PROFILES_DIR / name / "processes"
        if not folder.is_dir():
            continue
        source = read_directory(folder, PROFILES_DIR / name / "forms")
        source.forms = {**library_forms, **source.forms}
        checked = check_library(source, REGISTRY.keys(), provider_names())
        assert checked.problems == [] and checked.processes, name
    assert all(len(p.variants) == len(list((PROFILES_DIR / p.name).glob("processes/*.bpmn"))) for p in all_profiles())


def _profile_root(tmp_path, *, settings=None, variant=True, broken=False) -> Path:
    """A profile folder of our own: one setting and, optionally, a variant of the evaluation diagram
    with a renamed task."""
    folder = tmp_path / "profiles" / "proeve"
    (folder / "processes").mkdir(parents=True)
    (folder / "profile.json").write_text(json.dumps({
        "name": "Prøvekommune", "guideline": "000_3f46e57a34da4bf5.txt", "description": "Til prøve",
        "settings": settings or {"notice_days": {"value": 21, "source": "«minst tre uker»"}}}), encoding="utf-8")
    if variant:
        xml = (ROOT / "processes" / "evaluation.bpmn").read_text(encoding="utf-8")
        xml = xml.replace('name="Evaluer ansvarsgruppen"', 'name="Evaluer ansvarsgruppen sammen med personen"')
        if broken:
            xml = xml.replace("evaluation_due", "finnes_ikke", 1)  # a handler nobody registered
        (folder / "processes" / "evaluation.bpmn").write_text(xml, encoding="utf-8")
    return tmp_path / "profiles"


def test_a_profile_with_a_bad_setting_or_variant_is_refused(tmp_path):
    with pytest.raises(ProfileError, match="finnes ikke"):
        load_profile("proeve", _profile_root(tmp_path / "a", settings={"no_such_setting": {"value": 1, "source": "x"}}))
    with pytest.raises(ProfileError, match="ikke tillatt"):
        load_profile("proeve", _profile_root(tmp_path / "b", settings={"notice_days": {"value": 0, "source": "x"}}))
    with pytest.raises(ProfileError, match="source"):
        load_profile("proeve", _profile_root(tmp_path / "c", settings={"notice_days": {"value": 14}}))
    with pytest.raises(ProfileError, match="diagramvarianten er ikke gyldig"):
        load_profile("proeve", _profile_root(tmp_path / "d", broken=True))
    with pytest.raises(ProfileError, match="finnes ikke"):
        load_profile("../etc", PROFILES_DIR)


def test_a_variant_validates_with_the_cli(tmp_path):
    root = _profile_root(tmp_path)
    result = CliRunner().invoke(main, ["processes", "validate", str(root / "proeve" / "processes")])
    assert result.exit_code == 0 and "ok  evaluation" in result.output


# --- preview and apply -----------------------------------------------------------------------

def test_preview_lists_the_setting_changes(services, users):
    with services.db.session() as s:
        plan = preview(s, "retningslinje-004")
    changed = {c.key: (c.current, c.new) for c in plan.settings}
    assert changed == {"coordinating_unit_appoints": (True, False), "coordinator_may_take_minutes": (True, False),
                       "report_to_system_owner": (False, True), "closing_reported_to": ("coordinating_unit", "system_owner")}
    assert all(c.label == DEFINITIONS[c.key].label and c.source for c in plan.settings)
    assert set(plan.unchanged) == {"uses_relay_log", "leader_by_age_stage", "minute_taker_rotates", "invitations_by_post"}
    assert plan.processes == [] and plan.changes_anything
    with services.db.session() as s:
        assert not preview(s, "salangen").changes_anything  # today's defaults come from 002
        assert get_setting(s, "report_to_system_owner") is False  # a preview changes nothing


def test_apply_is_audited_and_a_second_apply_changes_nothing(services, users):
    result = apply(services, "ostre-toten", users["admin"])
    assert set(result.settings) == {"coordinating_unit_appoints", "uses_relay_log", "coordinator_may_take_minutes",
                                    "minutes_approval", "evaluation_interval_months", "need_check_yearly"}
    with services.db.session() as s:
        assert get_setting(s, "evaluation_interval_months") == "24" and get_setting(s, "uses_relay_log") is True
    changed = _events(services, "setting_changed")
    assert {e.detail["key"] for e in changed} == set(result.settings)
    assert all(e.actor_id == users["admin"] for e in changed)
    [applied] = _events(services, "profile_applied")
    assert applied.actor_id == users["admin"] and applied.detail["profile"] == "ostre-toten"
    assert applied.detail["settings"]["evaluation_interval_months"] == {"old": "12", "new": "24"}
    again = apply(services, "ostre-toten", users["admin"])
    assert again.settings == [] and again.published == {}
    assert len(_events(services, "setting_changed")) == len(changed) and len(_events(services, "profile_applied")) == 1


def test_applying_another_profile_after_one(services, users):
    apply(services, "retningslinje-004", users["admin"])
    result = apply(services, "salangen", users["admin"])
    assert set(result.settings) == {"coordinating_unit_appoints", "coordinator_may_take_minutes",
                                    "report_to_system_owner", "closing_reported_to"}
    with services.db.session() as s:
        assert get_setting(s, "report_to_system_owner") is False


def test_a_variant_is_published_as_a_new_version_once(services, users, tmp_path):
    root = _profile_root(tmp_path)
    before = _versions(services, "evaluation")
    with services.db.session() as s:
        plan = preview(s, "proeve", root=root)
    [process] = plan.processes
    assert process.process_id == "evaluation" and process.current_version == before
    assert any(e.element_id == "evaluate" and e.change == "changed" for e in process.elements)
    result = apply(services, "proeve", users["admin"], root=root)
    assert result.published == {"evaluation": before + 1} and result.settings == ["notice_days"]
    with services.db.session() as s:
        newest = s.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "evaluation",
                                                          ProcessDefinition.version == before + 1))
        assert "Prøvekommune" in newest.note and newest.published_by_id == users["admin"]
        assert "sammen med personen" in newest.documents["evaluation.bpmn"]
        assert not preview(s, "proeve", root=root).changes_anything
    assert _events(services, "profile_applied")[0].detail["published"] == {"evaluation": before + 1}
    assert apply(services, "proeve", users["admin"], root=root).published == {}
    assert _versions(services, "evaluation") == before + 1


def test_apply_is_one_transaction(services, users, tmp_path, monkeypatch):
    """A variant that cannot be published leaves the settings as they were."""
    root = _profile_root(tmp_path)
    import webapp.workbench.operations as workbench

    def refuse(*args, **kwargs):
        raise RuntimeError("publishing failed")
    monkeypatch.setattr(workbench, "publish_content", refuse)
    with pytest.raises(RuntimeError):
        apply(services, "proeve", users["admin"], root=root)
    with services.db.session() as s:
        assert get_setting(s, "notice_days") == 14
    assert _events(services, "setting_changed") == [] and _events(services, "profile_applied") == []


# --- the pages -------------------------------------------------------------------------------

@pytest.fixture
def admin(app, users):
    return login_client(app, "admin", PASSWORD)


def test_only_the_administrator_sees_profiles(app, users):
    kari = login_client(app, "kari", PASSWORD)
    assert kari.get("/admin/profiler/").status_code == 404
    assert kari.get("/admin/profiler/lund").status_code == 404
    assert kari.post("/admin/profiler/lund/bruk", data={"csrf_token": kari.token}).status_code == 404
    with app.extensions["ansvarsgruppe"].db.session() as s:
        assert get_setting(s, "invitations_by_post") is False


def test_the_list_and_the_preview_page(admin):
    page = admin.get("/admin/profiler/")
    assert page.status_code == 200
    for title in ("Østre Toten", "Retningslinje 001", "Salangen", "Lund", "Retningslinje 004"):
        assert title in page.text
    preview_page = admin.get("/admin/profiler/lund")
    assert preview_page.status_code == 200
    assert str(DEFINITIONS["invitations_by_post"].label) in preview_page.text  # current → new, with the source
    assert "«Sakslisten sendes med post»." in preview_page.text
    assert "Ta i bruk profilen «Lund»" in preview_page.text
    assert admin.get("/admin/profiler/finnes-ikke").status_code == 404
    assert admin.get("/admin/profiler/..%2Fetc").status_code == 404


def test_apply_needs_the_csrf_token(app, admin):
    assert admin.post("/admin/profiler/lund/bruk", data={}).status_code == 400
    with app.extensions["ansvarsgruppe"].db.session() as s:
        assert get_setting(s, "invitations_by_post") is False


def test_apply_from_the_page(app, services, admin, users):
    token = csrf_token(admin.get("/admin/profiler/lund").text)
    response = admin.post("/admin/profiler/lund/bruk", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/admin/profiler/lund")
    after = admin.get(response.location)
    assert "er tatt i bruk" in after.text and "Profilen er i bruk: den vil ikke endre noe." in after.text
    with services.db.session() as s:
        assert get_setting(s, "invitations_by_post") is True
    [applied] = _events(services, "profile_applied")
    assert applied.actor_id == users["admin"]
    again = admin.post("/admin/profiler/lund/bruk", data={"csrf_token": token})
    assert again.status_code == 302 and "var allerede i bruk" in admin.get(again.location).text
    assert len(_events(services, "profile_applied")) == 1


# --- the demo command ------------------------------------------------------------------------

def test_demo_with_an_unknown_profile_lists_the_names():
    result = CliRunner().invoke(main, ["demo", "--profile", "oslo"])
    assert result.exit_code == 1
    assert "Unknown profile 'oslo'" in result.output and "lund" in result.output and "ostre-toten" in result.output


def test_the_preview_page_shows_a_variant_and_apply_publishes_it(make_app, services, users, tmp_path):
    app = make_app(PROFILES_DIR=str(_profile_root(tmp_path)))
    client = login_client(app, "admin", PASSWORD)
    before = _versions(services, "evaluation")
    page = client.get("/admin/profiler/proeve")
    assert page.status_code == 200
    assert f"evaluation): versjon {before} → ny versjon" in page.text
    assert "Evaluer ansvarsgruppen sammen med personen" in page.text  # the changed task, from the diff
    response = client.post("/admin/profiler/proeve/bruk", data={"csrf_token": csrf_token(page.text)})
    assert "1 prosess(er) publisert" in client.get(response.location).text
    assert _versions(services, "evaluation") == before + 1


def test_a_broken_profile_is_shown_not_a_500(make_app, users, tmp_path):
    app = make_app(PROFILES_DIR=str(_profile_root(tmp_path, broken=True)))
    client = login_client(app, "admin", PASSWORD)
    listing = client.get("/admin/profiler/")
    assert listing.status_code == 200 and "diagramvarianten er ikke gyldig" in listing.text
    page = client.get("/admin/profiler/proeve")
    assert page.status_code == 200 and "Profilen kan ikke brukes" in page.text
    response = client.post("/admin/profiler/proeve/bruk", data={"csrf_token": client.token})
    assert response.status_code == 302 and "diagramvarianten er ikke gyldig" in client.get(response.location).text
