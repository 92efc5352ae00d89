"""Audit-event titles in the reader's language: every event a domain operation records carries its
title as a catalogue entry (``webapp.audit.operations.titled``), and the case page's timeline
(``webapp.templating.event_title``) renders it in bokmål, nynorsk or English."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import session
from sqlalchemy import select

from webapp.audit.models import AuditEvent
from webapp.audit.operations import record, titled
from webapp.templating import event_title

ROOT = Path(__file__).resolve().parents[3]


def _record_calls_with_bare_title():
    """``record(..., title=...)`` calls in webapp/ and handlers/: a title no catalogue knows."""
    found = []
    for folder in ("webapp", "handlers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if name == "record" and any(k.arg == "title" for k in node.keywords):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_record_call_passes_a_bare_title():
    assert _record_calls_with_bare_title() == [], (
        "pass the title as **titled('... %(name)s ...', name=...) so the timeline can translate it")


def test_the_static_check_sees_a_bare_title():
    source = 'record(s, "x", at=now, title=f"Møte {n} opprettet")\naudit.record(s, "y", title="Z")\n'
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
             and any(k.arg == "title" for k in n.keywords)]
    assert len(calls) == 2


def test_titled_keeps_the_bokmal_text_and_the_catalogue_entry():
    detail = titled("Møte %(number)s planlagt", number=3)
    assert detail == {"title": "Møte 3 planlagt", "title_msgid": "Møte %(number)s planlagt",
                      "title_args": {"number": 3}}
    assert titled("Avvik registrert") == {"title": "Avvik registrert", "title_msgid": "Avvik registrert",
                                          "title_args": {}}


def _stored(services, kind: str, **detail) -> AuditEvent:
    """An event written and read back (the detail goes through the JSON column)."""
    with services.db.transaction() as s:
        event_id = record(s, kind, at=services.clock.now(), **detail)
    with services.db.session() as s:
        event = s.get(AuditEvent, event_id)
        s.expunge(event)
        return event


def _render(app, event, lang: str | None) -> str:
    with app.test_request_context("/"):
        if lang:
            session["lang"] = lang
        return event_title(event)


def test_a_titled_event_renders_in_the_readers_language(app, services):
    event = _stored(services, "persons_needs_recorded", meeting_id=1,
                    **titled("Personens behov og ønsker før møtet registrert"))
    assert _render(app, event, None) == "Personens behov og ønsker før møtet registrert"
    assert _render(app, event, "en") == "The person's needs and wishes before the meeting recorded"
    assert _render(app, event, "nn") == "Behova og ønska til personen før møtet registrerte"

    planned = _stored(services, "meeting_planned", **titled("Møte %(number)s planlagt", number=2))
    assert planned.detail["title"] == "Møte 2 planlagt"
    assert _render(app, planned, None) == "Møte 2 planlagt"
    assert _render(app, planned, "en") == "Meeting 2 planned"
    assert _render(app, planned, "nn") == "Møte 2 planlagt"


def test_labels_inside_a_title_are_translated_too(app, services):
    from webapp.transitions.models import TRANSITION_KINDS

    transition = _stored(services, "transition_planned", **titled(
        "Overgang planlagt: %(transition)s %(date)s", transition=TRANSITION_KINDS["lower_secondary"],
        date="01.08.2031"))
    assert transition.detail["title"] == "Overgang planlagt: Overgang til ungdomsskolen 01.08.2031"
    english = _render(app, transition, "en")
    assert english.startswith("Transition planned: ") and english.endswith(" 01.08.2031")
    assert "ungdomsskolen" not in english
    assert _render(app, transition, "nn") == "Overgang planlagd: Overgang til ungdomsskulen 01.08.2031"

    # a plan kind, capitalised at the start of the sentence as in the stored bokmål
    ended = _stored(services, "plan_ended", **titled("%(plan)s avsluttet", plan="Individuell plan"))
    assert _render(app, ended, "en") == "Individual plan ended"
    assert _render(app, ended, "nn") == "Individuell plan avslutta"
    started = _stored(services, "plan_started", **titled("Arbeidet med %(plan)s er startet", plan="stafettlogg"))
    assert _render(app, started, "en") == "Work on the relay log has started"


@pytest.mark.parametrize("msgid, key, labels", [
    ("Overgang avbrutt: %(transition)s", "transition", "webapp.transitions.models:TRANSITION_KINDS"),
    ("Arbeidet med %(plan)s er startet", "plan", "webapp.plans.operations:KIND_LABELS"),
    ("%(plan)s: versjon %(version)s (%(source)s)", "source", "webapp.plans.operations:SOURCE_LABELS"),
    ("Avslutning startet (%(initiator)s)", "initiator", "webapp.closing.operations:INITIATOR_LABELS"),
])
def test_every_label_of_a_closed_set_has_an_english_title(app, msgid, key, labels):
    """A label added to one of these sets without a translation would show in bokmål."""
    import importlib
    module, name = labels.split(":")
    for label in getattr(importlib.import_module(module), name).values():
        args = {"plan": "Individuell plan", "version": 2, "source": "utkast", key: label}
        event = AuditEvent(kind="x", detail=titled(msgid, **{k: v for k, v in args.items() if f"%({k})" in msgid}))
        english = _render(app, event, "en")
        assert label not in english, (label, english)


def test_a_process_name_goes_through_the_librarys_catalogue(app, services):
    from webapp import library_texts

    event = _stored(services, "episode_scheduled", process="meeting", **titled(
        "Planlagt start %(date)s: %(process)s", date="02.03.2031", process="Møte i ansvarsgruppen"))
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert library_texts.title("Møte i ansvarsgruppen") == "Responsibility group meeting"
        assert event_title(event) == "Start scheduled for 02.03.2031: Responsibility group meeting"
    assert _render(app, event, None) == "Planlagt start 02.03.2031: Møte i ansvarsgruppen"


def test_old_events_and_broken_entries_fall_back_to_the_stored_title(app, services):
    old = _stored(services, "meeting_planned", title="Møte 1 planlagt")
    assert _render(app, old, "en") == "Møte 1 planlagt"
    broken = _stored(services, "meeting_planned", title="Møte 4 planlagt", title_msgid="Møte %(number)s planlagt",
                     title_args={"nummer": 4})
    assert _render(app, broken, "en") == "Møte 4 planlagt"
    untitled = _stored(services, "something_else")
    assert _render(app, untitled, "en") == "something_else"


def test_the_events_of_an_established_group_all_render_in_english(app, services, case_id):
    """The class, not an example: every event on the timeline of a group walked through
    establishment has a catalogue title (or a line of its own in event_title), shown in English."""
    with services.db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)).all()
        for event in events:
            s.expunge(event)
    assert len(events) > 10
    own_lines = {"instance_completed", "incident_opened", "incident_resolved", "timers_checked"}
    untitled = [e.kind for e in events if "title_msgid" not in (e.detail or {}) and e.kind not in own_lines]
    assert untitled == []
    for event in events:
        english = _render(app, event, "en")
        assert english and english != event.kind, event.kind
        if "title" in event.detail:
            assert english != event.detail["title"], (event.kind, english)
