"""The whole interface in nynorsk and English, including the process library's own texts: the
pages of one full meeting cycle (inbox, case page, every step of the meeting, the minutes PDF)
are read in each language, and no text from the bokmål source is left untranslated on them.

A page leaks when its visible text holds a source string of any catalogue (the UI's, the
diagrams', the forms') whose translation differs from it; texts shorter than a few words are left
out (a name such as "Emma" is the same in every language)."""
from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import complete, open_task
from tests.webapp.meetings.helpers import hold_data, meeting, plan, prepare
from webapp.engine.models import OpenTask

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {
    lang: [ROOT / "webapp" / "translations" / lang / "LC_MESSAGES" / "messages.po",
           ROOT / "processes" / "translations" / lang / "LC_MESSAGES" / "processes.po",
           ROOT / "forms" / "translations" / lang / "LC_MESSAGES" / "forms.po"]
    for lang in ("nn", "en")}
TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


def _sources(lang: str) -> list[str]:
    """Source strings of the catalogues of ``lang`` whose translation differs, placeholders cut
    out (the fixed parts around them must not show either)."""
    found = set()
    for path in CATALOGUES[lang]:
        with path.open("rb") as f:
            for m in read_po(f):
                if not m.id or m.pluralizable:
                    continue
                if m.string and m.string != m.id:
                    for part in re.split(r"%\(\w+\)[sdif]", m.id):
                        part = part.strip(" .:·–-()")
                        if len(part) >= 16 and part.count(" ") >= 2:
                            found.add(part)
    return sorted(found)


def _text(response) -> str:
    body = response.get_data()
    if body.startswith(b"%PDF"):
        reader = pypdf.PdfReader(io.BytesIO(body))
        return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    return " ".join(html.unescape(TAGS.sub(" ", body.decode("utf-8"))).split())


def _client(app, username: str, lang: str):
    client = login_client(app, username)
    with client.session_transaction() as s:
        s["lang"] = lang
    return client


def _task_url(services, case_id: int, spec: str, assignee: int | None = None) -> str:
    task = open_task(services, case_id, spec, assignee)
    assert task is not None, spec
    return f"/oppgaver/{task.instance_id}/{task.task_id}"


def _approve_all(services) -> None:
    """Every member approves the minutes (their own steps, through the engine)."""
    with services.db.session() as s:
        approvals = s.scalars(select(OpenTask).where(OpenTask.task_spec == "approve")).all()
    for task in approvals:
        services.engine.complete_task(task.instance_id, task.task_id, {"approved": "ja"}, actor_id=task.assignee_id)


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_a_meeting_cycle_has_no_untranslated_text(app, services, users, case_id, lang):
    sources = _sources(lang)
    pages: dict[str, str] = {}

    def read(username: str, url: str, name: str) -> None:
        response = _client(app, username, lang).get(url)
        assert response.status_code == 200, (name, response.status_code)
        text = _text(response)
        if not url.endswith(".pdf"):
            assert f'<html lang="{lang}"' in response.text, name
        pages[name] = text

    read("kari", "/oppgaver", "inbox")
    read("kari", f"/saker/{case_id}", "case page")
    read("kari", _task_url(services, case_id, "plan"), "plan the meeting")
    plan(services, users, case_id)
    read("kari", _task_url(services, case_id, "needs"), "the person's needs")
    complete(services, case_id, "needs", {"persons_needs": "Emma", "person_attends": "ja"}, users["kari"])
    read("kari", _task_url(services, case_id, "agenda"), "agenda")
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Emma"}]},
             users["kari"])
    data = hold_data(services, case_id, next_date=services.clock.today() + timedelta(days=120))
    read("siri", _task_url(services, case_id, "hold_first"), "hold the meeting")
    complete(services, case_id, "hold_first", data, users["siri"])
    m = meeting(services, case_id)
    # the minutes before approval, rendered in the reader's language (the archived PDF is the
    # record as approved, in the language it was archived in)
    read("kari", f"/saker/{case_id}/moter/{m.id}/referat.pdf", "the minutes (PDF)")
    read("siri", _task_url(services, case_id, "approve", users["siri"]), "approve the minutes")
    _approve_all(services)
    read("kari", _task_url(services, case_id, "finalize"), "send the minutes")
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    read("kari", f"/saker/{case_id}", "case page after the meeting")

    leaks = {name: [s for s in sources if s in text] for name, text in pages.items()}
    assert not any(leaks.values()), {name: found for name, found in leaks.items() if found}


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_the_guardians_pages_of_a_meeting_cycle_have_no_untranslated_text(app, services, users, case_id, lang):
    """The same cycle as the guardian reads it on her own pages (issue 15)."""
    from tests.webapp.portal.helpers import citizen, link
    sources = _sources(lang)
    citizen(services, "anne", "Anne Berg", email="anne@example.org")
    link(services, case_id, "foresatt", "anne")
    client = _client(app, "anne", lang)
    pages: dict[str, str] = {}

    def read(url: str, name: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        assert f'<html lang="{lang}"' in response.text, name
        pages[name] = _text(response)

    home = f"/min-side/saker/{case_id}"
    read(home, "the group")
    read(f"{home}/samtykke", "consent")
    read(f"{home}/samtykke/trekk", "withdraw the consent")
    plan(services, users, case_id)
    m = meeting(services, case_id)
    needs = open_task(services, case_id, "needs")
    read(f"{home}/onsker/{needs.instance_id}/{needs.task_id}", "the child's wishes")
    read(f"{home}/moter/{m.id}", "the meeting")
    read(f"{home}/moter/{m.id}/meld-sak", "submit a matter")
    read(f"{home}/moter/{m.id}/svar", "reply")
    read(f"{home}/be-om-mote", "ask for a meeting")
    complete(services, case_id, "needs", {"persons_needs": "Emma", "person_attends": "ja"}, needs.assignee_id)
    complete(services, case_id, "agenda", {"agreed_with_person": True, "agenda": [{"title": "Emma"}]},
             users["kari"])
    complete(services, case_id, "hold_first", hold_data(services, case_id), users["siri"])
    _approve_all(services)
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    client = _client(app, "anne", lang)  # the clock moved to the meeting: a new login
    read(f"{home}/moter/{m.id}", "the meeting with its minutes")
    read(f"{home}/innsyn", "who has looked")

    leaks = {name: [s for s in sources if s in text] for name, text in pages.items()}
    assert not any(leaks.values()), {name: found for name, found in leaks.items() if found}
