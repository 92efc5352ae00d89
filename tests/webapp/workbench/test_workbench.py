"""The process owners' workbench over HTTP: library, drafts with conflict detection, the form
editor, publishing with a note, history and diff, restore, migration, import and export."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from tests.conftest import login_client
from tests.webapp.cases.helpers import establish, municipality
from webapp.audit.models import AuditEvent
from webapp.auth.operations import create_user
from webapp.engine.models import ProcessDefinition
from webapp.workbench.models import ProcessDraft

NEW_TASK = """<bpmn:userTask id="follow_up" name="Følg opp avtalen">
      <bpmn:incoming>f_new_in</bpmn:incoming>
      <bpmn:outgoing>f_new_out</bpmn:outgoing>
    </bpmn:userTask>"""


@pytest.fixture
def owner(services):
    users = municipality(services)
    with services.db.transaction() as s:
        users["per"] = create_user(s, "per", "Per Prosesseier", "passord123", roles=("process_owner",),
                                   at=services.clock.now()).id
    return users


def _draft(client, process_id="closing") -> int:
    response = client.post(f"/prosesser/{process_id}/utkast", data={"csrf_token": client.token})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _save(client, draft_id, xml, revision):
    return client.post(f"/prosesser/utkast/{draft_id}/lagre", json={"xml": xml, "revision": revision},
                       headers={"X-CSRFToken": client.token})


def _xml(services, draft_id) -> str:
    with services.db.session() as s:
        draft = s.get(ProcessDraft, draft_id)
        return draft.documents[draft.main_file]


def test_only_process_owners_and_admins_reach_it(app, owner):
    staff = login_client(app, "kari")
    assert staff.get("/prosesser/").status_code == 404
    assert staff.post("/prosesser/closing/utkast", data={"csrf_token": staff.token}).status_code == 404
    per = login_client(app, "per")
    page = per.get("/prosesser/")
    assert page.status_code == 200 and "Avslutning" in page.text or "closing" in page.text
    assert per.post("/prosesser/closing/utkast").status_code == 400  # no CSRF token


def test_a_second_save_from_the_same_revision_is_a_conflict(app, services, owner):
    per = login_client(app, "per")
    draft_id = _draft(per)
    xml = _xml(services, draft_id)
    first = _save(per, draft_id, xml.replace('name="Bekreft avslutningen med personen"', 'name="Bekreft at gruppen avsluttes"'), 1)
    assert first.status_code == 200, first.text
    assert first.json["revision"] == 2
    second = _save(per, draft_id, xml, 1)
    assert second.status_code == 409
    assert "lagret av Per Prosesseier" in second.json["message"] and second.json["revision"] == 2
    assert "Bekreft at gruppen avsluttes" in _xml(services, draft_id)  # the first save stands


def test_saves_report_findings_and_bad_input_is_refused(app, services, owner):
    per = login_client(app, "per")
    draft_id = _draft(per)
    xml = _xml(services, draft_id)
    broken = _save(per, draft_id, "<bpmn:definitions", 1)
    assert broken.status_code == 400 and "kan ikke leses" in broken.json["message"]
    hostile = _save(per, draft_id, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', 1)
    assert hostile.status_code == 400
    assert per.post(f"/prosesser/utkast/{draft_id}/lagre", data="nei", headers={"X-CSRFToken": per.token},
                    content_type="application/json").status_code == 400
    assert _xml(services, draft_id) == xml  # nothing was stored
    # a user task without a form and outside the flow: errors pinned on its id
    lonely = xml.replace("</bpmn:process>", '<bpmn:userTask id="lonely" name="Ensom"/></bpmn:process>')
    saved = _save(per, draft_id, lonely, 1)
    assert saved.status_code == 200
    pinned = [p for p in saved.json["problems"] if p["element_id"] == "lonely"]
    assert [(p["severity"], p["rule"]) for p in pinned] == [("error", "no-disconnected")]


def test_form_editor_saves_form_and_guideline_and_previews(app, services, owner):
    per = login_client(app, "per")
    draft_id = _draft(per)
    page = per.get(f"/prosesser/utkast/{draft_id}/oppgave/confirm_closing")
    assert page.status_code == 200 and "Slik ser de ansatte skjemaet" in page.text
    schema = {"type": "object", "title": "Oppfølging", "required": ["what"],
              "properties": {"what": {"type": "string", "title": "Hva ble avtalt?"}}}
    bad = per.post(f"/prosesser/utkast/{draft_id}/oppgave/confirm_closing",
                   data={"csrf_token": per.token, "revision": "1", "form_name": "oppfolging.json",
                         "schema": '{"type": "object", "properties": {"x": {"type": "nope"}}}',
                         "documentation": "Ny tekst"})
    assert bad.status_code == 400 and "ikke gyldig JSON Schema" in bad.text and "Ny tekst" in bad.text
    preview = per.post(f"/prosesser/utkast/{draft_id}/forhandsvis", data={"csrf_token": per.token,
                                                                         "schema": json.dumps(schema)})
    assert preview.status_code == 200 and "Hva ble avtalt?" in preview.text
    assert per.post(f"/prosesser/utkast/{draft_id}/forhandsvis",
                    data={"csrf_token": per.token, "schema": "{"}).status_code == 400
    ok = per.post(f"/prosesser/utkast/{draft_id}/oppgave/confirm_closing",
                  data={"csrf_token": per.token, "revision": "1", "form_name": "oppfolging.json",
                        "schema": json.dumps(schema), "documentation": "Fra retningslinjen 002"})
    assert ok.status_code == 302, ok.text
    with services.db.session() as s:
        draft = s.get(ProcessDraft, draft_id)
        assert draft.forms["oppfolging.json"] == schema and draft.revision == 2
        assert 'value="oppfolging.json"' in draft.documents[draft.main_file]
        assert "Fra retningslinjen 002" in draft.documents[draft.main_file]


def test_publish_needs_a_note_and_no_errors_then_diff_and_restore(app, services, owner):
    per = login_client(app, "per")
    draft_id = _draft(per)
    xml = _xml(services, draft_id)
    _save(per, draft_id, xml.replace("</bpmn:process>", '<bpmn:userTask id="lonely" name="Ensom"/></bpmn:process>'), 1)
    refused = per.post(f"/prosesser/utkast/{draft_id}/publiser", data={"csrf_token": per.token, "note": "Ny"})
    assert refused.status_code == 400 and "feil som må rettes" in refused.text
    renamed = xml.replace('name="Bekreft avslutningen med personen"', 'name="Bekreft at gruppen avsluttes"')
    assert _save(per, draft_id, renamed, 2).status_code == 200
    no_note = per.post(f"/prosesser/utkast/{draft_id}/publiser", data={"csrf_token": per.token, "note": " "})
    assert no_note.status_code == 400 and "hva som er endret" in no_note.text
    page = per.get(f"/prosesser/utkast/{draft_id}/publiser")
    assert "Bekreft at gruppen avsluttes" in page.text  # the change is listed before publishing
    done = per.post(f"/prosesser/utkast/{draft_id}/publiser",
                    data={"csrf_token": per.token, "note": "Tydeligere navn", "accept_reason": "Kjente advarsler"})
    assert done.status_code == 302, done.text
    with services.db.session() as s:
        newest = s.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "closing")
                          .order_by(ProcessDefinition.version.desc()))
        assert (newest.version, newest.note, newest.published_by_id) == (2, "Tydeligere navn", owner["per"])
        event = s.scalar(select(AuditEvent).where(AuditEvent.kind == "process_published"))
        assert event.detail["version"] == 2 and event.actor_id == owner["per"]
    diff = per.get("/prosesser/closing/diff?a=1&b=2")
    assert diff.status_code == 200 and "Bekreft at gruppen avsluttes" in diff.text
    assert per.get("/prosesser/closing/diff?a=1&b=99").status_code == 404
    library = per.get("/prosesser/")
    assert "publiserte closing versjon 2" in library.text and "Tydeligere navn" in library.text
    restored = per.post("/prosesser/closing/versjoner/1/gjenopprett", data={"csrf_token": per.token})
    assert restored.status_code == 302
    with services.db.session() as s:
        versions = s.execute(select(ProcessDefinition.version, ProcessDefinition.content_hash)
                             .where(ProcessDefinition.process_id == "closing").order_by(ProcessDefinition.version)).all()
    assert [v for v, _h in versions] == [1, 2, 3] and versions[0][1] == versions[2][1]


def test_migration_dry_run_then_moves_the_safe_ones(app, services, owner):
    case_id = establish(services, owner, until="active")
    per = login_client(app, "per")
    draft_id = _draft(per, "meeting")
    xml = _xml(services, draft_id)
    _save(per, draft_id, xml.replace('name="Planlegg møtet"', 'name="Planlegg neste møte"'), 1)
    assert per.post(f"/prosesser/utkast/{draft_id}/publiser",
                    data={"csrf_token": per.token, "note": "Nytt navn", "accept_reason": "ok"}).status_code == 302
    dry = per.get("/prosesser/meeting/flytting")
    assert dry.status_code == 200 and "kan flyttes" in dry.text
    moved = per.post("/prosesser/meeting/flytting", data={"csrf_token": per.token, "til": "2", "scope": "safe"})
    assert moved.status_code == 302
    report = per.get(moved.headers["Location"])
    assert "Flyttet" in report.text
    library = per.get("/prosesser/")
    assert library.status_code == 200 and "flyttet 1 forekomst(er) av meeting til versjon 2" in library.text
    assert per.get("/prosesser/meeting").status_code == 200
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "instance_migrated",
                                                                            AuditEvent.case_id == case_id)) >= 1
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "process_migration")) == 1


def test_export_and_import(app, services, owner):
    per = login_client(app, "per")
    exported = per.get("/prosesser/closing/versjoner/1/eksport.zip")
    assert exported.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(exported.data)).namelist()
    assert "processes/closing.bpmn" in names and any(n.startswith("forms/") for n in names)
    whole = zipfile.ZipFile(io.BytesIO(per.get("/prosesser/eksport.zip").data)).namelist()
    assert "processes/meeting.bpmn" in whole
    imported = per.post("/prosesser/import", data={"csrf_token": per.token,
                                                  "file": (io.BytesIO(exported.data), "closing-v1.zip")},
                        content_type="multipart/form-data")
    assert imported.status_code == 302 and "/utkast/" in imported.headers["Location"]
    for data, name, words in [(b"<x", "a.bpmn", "kan ikke leses"), (b"PK\x03\x04nonsense", "b.zip", "kan ikke åpnes"),
                              (b"hei", "c.txt", "Velg en .bpmn-fil"), (b"\xff\xfe", "d.bpmn", "UTF-8"),
                              (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "e.bpmn", "DOCTYPE"),
                              (b"<x>" + b" " * (2 * 1024 * 1024) + b"</x>", "f.bpmn", "for stor")]:
        response = per.post("/prosesser/import", data={"csrf_token": per.token, "file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data", follow_redirects=True)
        assert response.status_code == 200 and words in response.text, name
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessDraft)) == 1
