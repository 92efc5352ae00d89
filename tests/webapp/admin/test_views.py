import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login_client
from webapp.audit.models import AuditEvent
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.cases.models import Unit
from webapp.settings.defaults import DEFINITIONS
from webapp.settings.operations import change_setting, get_setting


@pytest.fixture
def admin(app, services):
    with services.db.transaction() as s:
        create_user(s, "admin", "Anne Admin", "passord123", roles=("admin",), at=services.clock.now())
        create_user(s, "kari", "Kari", "passord123", roles=("staff",), at=services.clock.now())
    return login(app, "admin")


def login(app, username, password="passord123"):
    return login_client(app, username, password)


def test_only_administrators(app, admin):
    kari = login(app, "kari")
    for path in ("/admin/innstillinger", "/admin/enheter", "/admin/brukere"):
        assert kari.get(path).status_code == 404
        assert admin.get(path).status_code == 200


def test_change_settings(admin, services):
    page = admin.get("/admin/innstillinger")
    assert 'id="s-notice_days"' in page.text and 'value="14"' in page.text and "002 (Salangen)" in page.text
    token = csrf_token(page.text)
    form = {"csrf_token": token, "notice_days": "10", "child_coordinator_below_age": "18", "relay_log_max_age": "18",
            "consent_valid_months": "0", "meeting_planning_days": "14", "meeting_minutes_default": "90",
            "evaluation_interval_months": "24",
            "coordinating_unit_appoints": "on", "uses_relay_log": "on", "minutes_approval": "members",
            "minutes_approval_days": "7", "reminder_days_before": "2", "measure_reminder_days": "7",
            "coordinator_may_take_minutes": "on", "minute_taker_rotates": "on", "need_check_yearly": "on",
            "transition_review_months": "12", "closing_reported_to": "coordinating_unit",
            "coordinator_read_months": "12", "deviation_followup_days": "14",
            "meeting_interval_months": "6", "minutes_sent_by": "coordinator",
            "consent_waiting_days": "30", "supervision_digest_weekday": "0", "plan_is_agenda": "on",
            "plan_revision_months": "12", "own_access_age": "16", "guardian_access_consent_age": "16"}
    bad = admin.post("/admin/innstillinger", data={**form, "notice_days": "fjorten"})
    assert bad.status_code == 400 and 'value="fjorten"' in bad.text and 'aria-invalid="true"' in bad.text
    with services.db.session() as s:
        assert get_setting(s, "notice_days") == 14  # nothing saved
    # the person's own access cannot start later than the guardians need the person's consent
    gap = admin.post("/admin/innstillinger", data={**form, "own_access_age": "18"})
    assert gap.status_code == 400 and "Alderen for egen tilgang kan ikke være høyere" in gap.text
    with services.db.session() as s:
        assert get_setting(s, "own_access_age") == 16 and get_setting(s, "notice_days") == 14
    assert admin.post("/admin/innstillinger", data=form).status_code == 302
    with services.db.session() as s:
        assert get_setting(s, "notice_days") == 10 and get_setting(s, "uses_relay_log") is True
        assert get_setting(s, "evaluation_interval_months") == "24"
        assert get_setting(s, "leader_by_age_stage") is False
        changed = s.scalars(select(AuditEvent.detail).where(AuditEvent.kind == "setting_changed")).all()
    assert {d["key"] for d in changed} == {"notice_days", "uses_relay_log", "evaluation_interval_months"}


def test_units(admin, services):
    token = csrf_token(admin.get("/admin/enheter").text)
    assert admin.post("/admin/enheter", data={"name": "Solbakken skole", "kind": "school", "csrf_token": token}).status_code == 302
    dup = admin.post("/admin/enheter", data={"name": "Solbakken skole", "kind": "school", "csrf_token": token})
    assert dup.status_code == 400 and "finnes allerede" in dup.text
    bad = admin.post("/admin/enheter", data={"name": "X", "kind": "romskip", "csrf_token": token})
    assert bad.status_code == 400
    with services.db.session() as s:
        assert s.scalar(select(func.count(Unit.id))) == 1


def test_users(admin, services, app):
    token = csrf_token(admin.get("/admin/brukere").text)
    form = {"username": "siri", "full_name": "Siri Skole", "email": "siri@example.org", "roles": "staff",
            "password": "et-langt-passord", "csrf_token": token}
    short = admin.post("/admin/brukere", data={**form, "password": "kort"})
    assert short.status_code == 400 and 'value="Siri Skole"' in short.text
    assert 'value="kort"' not in short.text  # a password is never echoed back
    assert admin.post("/admin/brukere", data=form).status_code == 302
    dup = admin.post("/admin/brukere", data=form)
    assert dup.status_code == 400 and "Brukernavnet er tatt" in dup.text
    bad_role = admin.post("/admin/brukere", data={**form, "username": "ny", "roles": "superhelt"})
    assert bad_role.status_code == 400
    with services.db.session() as s:
        assert s.scalar(select(User.roles).where(User.username == "siri")) == "staff"
    assert login(app, "siri", "et-langt-passord").get("/oppgaver").status_code == 200


@pytest.mark.parametrize("key, raw, allowed", [
    ("meeting_minutes_default", "0", "15 til 480"), ("notice_days", "99999", "1 til 90"),
    ("meeting_interval_months", "13", "1 til 12"), ("deviation_followup_days", "-3", "1 til 180"),
    ("notice_days", "１４", "1 til 90"),  # full-width digits are not a number here
])
def test_settings_out_of_range_name_the_range(admin, services, key, raw, allowed):
    page = admin.get("/admin/innstillinger")
    assert "Tillatt: 15–480." in page.text and "Tillatt: 1–12." in page.text
    form = {"csrf_token": csrf_token(page.text)}
    for line in re.finditer(r'name="([a-z_]+)"[^>]*value="([^"]*)"', page.text):
        if line.group(1) != "csrf_token":
            form[line.group(1)] = line.group(2)
    form.update({"minutes_approval": "members", "evaluation_interval_months": "12",
                 "closing_reported_to": "coordinating_unit", "minutes_sent_by": "coordinator",
                 "notice_days": "10", key: raw})
    bad = admin.post("/admin/innstillinger", data=form)
    assert bad.status_code == 400 and allowed in bad.text and f'value="{raw}"' in bad.text
    with services.db.session() as s:
        assert get_setting(s, "notice_days") == 14  # nothing saved, not even the valid change
        assert get_setting(s, key) == DEFINITIONS[key].default


def test_change_setting_refuses_out_of_range(services):
    with services.db.transaction() as s:
        with pytest.raises(ValueError, match="1 to 12"):
            change_setting(s, "meeting_interval_months", 0, at=services.clock.now(), actor_id=None)
        change_setting(s, "meeting_interval_months", 3, at=services.clock.now(), actor_id=None)
    with services.db.session() as s:
        assert get_setting(s, "meeting_interval_months") == 3


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_the_settings_page_is_in_the_readers_language(app, admin, lang):
    """Every setting's label and every choice are translated; the guideline each default comes
    from is quoted as written (Norwegian sources)."""
    from tests.webapp.test_languages import _sources, _text
    with admin.session_transaction() as s:
        s["lang"] = lang
    page = admin.get("/admin/innstillinger")
    assert page.status_code == 200 and f'<html lang="{lang}"' in page.text
    text = _text(page)
    left = [source for source in _sources(lang) if source in text]
    assert left == [], left
    labels = {"nn": ("Kor ofte gruppa blir evaluert", "Annakvart år", "Måndag"),
              "en": ("How often the group is evaluated", "Every other year", "Monday")}[lang]
    for label in labels:
        assert label in text
    assert str(DEFINITIONS["notice_days"].label) not in text  # the bokmål label is gone
