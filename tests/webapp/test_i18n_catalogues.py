"""Nynorsk beside English, and the process library's own catalogues (docs/translations.md): every
catalogue complete, placeholders kept, compiled, and in step with its source; the language
choice kept on the account."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from tests.conftest import csrf_token, login_client
from webapp.audit.models import AuditEvent
from webapp.auth.models import User

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")
#: (catalogue, its source folder for the library's extractors or None for the UI's)
CATALOGUES = [(ROOT / "webapp" / "translations" / lang / "LC_MESSAGES" / "messages.po", None) for lang in ("nn",)] + [
    (ROOT / folder / "translations" / lang / "LC_MESSAGES" / f"{folder}.po", folder)
    for folder in ("processes", "forms") for lang in ("en", "nn")]
IDS = [str(path.relative_to(ROOT)) for path, _folder in CATALOGUES]


def _entries(path: Path):
    with path.open("rb") as f:
        return [m for m in read_po(f) if m.id]


def _strings(m) -> tuple:
    return tuple(m.string) if isinstance(m.string, (tuple, list)) else (m.string,)


def _ids(m) -> tuple:
    return tuple(m.id) if isinstance(m.id, (tuple, list)) else (m.id,)


@pytest.mark.parametrize("path, folder", CATALOGUES, ids=IDS)
def test_catalogue_is_complete_and_compiled(path, folder):
    entries = _entries(path)
    assert len(entries) > 100
    assert not [m.id for m in entries if m.fuzzy], "fuzzy entries: review them and remove '#, fuzzy'"
    assert not [m.id for m in entries if not all(s and s.strip() for s in _strings(m))], "untranslated entries"
    for m in entries:
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(_ids(m)))))
        for translated in _strings(m):
            assert sorted(set(PLACEHOLDER.findall(translated))) == wanted, (m.id, translated)
    with path.with_suffix(".mo").open("rb") as f:
        compiled = {_ids(m): tuple(_strings(m)) for m in read_mo(f) if m.id}
    assert not [m.id for m in entries if compiled.get(_ids(m)) != _strings(m)], "run pybabel compile"


@pytest.mark.parametrize("path, folder", [c for c in CATALOGUES if c[1]], ids=[i for i, c in zip(IDS, CATALOGUES) if c[1]])
def test_library_catalogue_matches_the_diagrams_and_forms(path, folder):
    """Every name and guideline text of the shipped diagrams, every text of the shipped forms."""
    with (ROOT / "babel-library.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    in_source = {msgid for _file, _line, msgid, _comments, _context
                 in extract_from_dir(str(ROOT / folder), method_map, options_map)}
    missing = sorted(in_source - {m.id for m in _entries(path)})
    assert in_source and not missing, f"run the library's extract/update (docs/translations.md): {missing}"


def test_nynorsk_is_offered_and_kept_on_the_account(app, services, users):
    client = login_client(app, "kari")
    page = client.get("/oppgaver")
    assert 'name="lang" value="nn"' in page.text and 'name="lang" value="en"' in page.text
    response = client.post("/sprak", data={"lang": "nn", "next": "/oppgaver", "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    page = client.get("/oppgaver")
    assert '<html lang="nn"' in page.text and "Mine oppgåver" in page.text
    with services.db.session() as s:
        kari = s.scalar(select(User).where(User.username == "kari"))
        assert kari.language == "nn"
        assert s.scalar(select(AuditEvent.kind).where(AuditEvent.kind == "language_changed",
                                                      AuditEvent.actor_id == kari.id)) is not None
    # another browser: the account's choice follows the user at login
    again = login_client(app, "kari")
    assert '<html lang="nn"' in again.get("/oppgaver").text
    # an unknown language changes nothing
    again.post("/sprak", data={"lang": "xx", "next": "/oppgaver", "csrf_token": again.token})
    with services.db.session() as s:
        assert s.scalar(select(User.language).where(User.username == "kari")) == "nn"


def test_a_step_in_nynorsk_and_english_shows_the_librarys_texts(app, services, users, case_id):
    from tests.webapp.cases.helpers import open_task
    task = open_task(services, case_id, "plan")
    for lang, expected in (("nn", "Planlegg møtet"), ("en", "Plan the meeting")):
        client = login_client(app, "kari")
        with client.session_transaction() as s:
            s["lang"] = lang
        page = client.get(f"/oppgaver/{task.instance_id}/{task.task_id}")
        assert page.status_code == 200
        if lang == "en":
            assert expected in page.text and "Planlegg møtet" not in page.text
        else:
            assert "Planlegg møtet" in page.text  # the same words in nynorsk
