"""Translations: Norwegian bokmål is the source language, English comes from
webapp/translations/en/LC_MESSAGES/messages.{po,mo}. See docs/translations.md.

The catalogue tests below need no database; they fail when someone adds or changes a
translatable string without updating and compiling the English catalogue.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import session
from flask_babel import gettext, ngettext

from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "webapp" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
# Same keywords as the extract command in docs/translations.md.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "titled": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="en")


def _entries():
    return [m for m in _catalog() if m.id]


def _strings(message) -> tuple[str, ...]:
    # read_po gives tuples for plural entries, read_mo gives lists
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)


def _ids(message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (message.id,)


# --- the running app -------------------------------------------------------------------------

def test_login_page_is_norwegian_by_default(app):
    page = app.test_client().get("/logg-inn")
    assert page.status_code == 200
    assert '<html lang="nb"' in page.text
    assert "Logg inn" in page.text and "Brukernavn" in page.text and "Passord" in page.text
    assert "Log in" not in page.text and "Username" not in page.text
    # the language button offers English
    assert 'name="lang" value="en"' in page.text


def test_language_button_switches_to_english_and_back(app):
    client = app.test_client()
    page = client.get("/logg-inn")
    response = client.post("/sprak", data={"lang": "en", "next": "/logg-inn",
                                           "csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/logg-inn")

    english = client.get("/logg-inn")
    assert english.status_code == 200
    assert '<html lang="en"' in english.text
    assert "<h1" in english.text and "Log in</h1>" in english.text
    assert "Username" in english.text and "Password" in english.text
    assert "Skip to main content" in english.text
    assert "Logg inn" not in english.text and "Brukernavn" not in english.text
    assert 'name="lang" value="nb"' in english.text  # the button now offers Norwegian

    back = client.post("/sprak", data={"lang": "nb", "next": "/logg-inn",
                                       "csrf_token": csrf_token(english.text)})
    assert back.status_code == 302
    norwegian = client.get("/logg-inn")
    assert '<html lang="nb"' in norwegian.text and "Logg inn" in norwegian.text


def test_unknown_language_is_ignored(app):
    client = app.test_client()
    page = client.get("/logg-inn")
    client.post("/sprak", data={"lang": "sv", "next": "/logg-inn", "csrf_token": csrf_token(page.text)})
    again = client.get("/logg-inn")
    assert '<html lang="nb"' in again.text and "Logg inn" in again.text


def test_english_error_message_from_python(app):
    client = app.test_client()
    page = client.get("/logg-inn")
    client.post("/sprak", data={"lang": "en", "next": "/logg-inn", "csrf_token": csrf_token(page.text)})
    page = client.get("/logg-inn")
    response = client.post("/logg-inn", data={"username": "ingen", "password": "feil",
                                              "csrf_token": csrf_token(page.text)})
    assert response.status_code == 401
    assert "Incorrect username or password." in response.text
    assert "Feil brukernavn eller passord." not in response.text


def test_plural_and_lazy_strings_in_english(app):
    from webapp.templating import role_label, status_label

    with app.test_request_context("/"):
        session["lang"] = "en"
        assert ngettext("Legg til minst %(num)s rad.", "Legg til minst %(num)s rader.", 1) == "Add at least 1 row."
        assert ngettext("Legg til minst %(num)s rad.", "Legg til minst %(num)s rader.", 3) == "Add at least 3 rows."
        assert gettext("Teksten er for lang (maks %(n)s tegn).", n=200) == "The text is too long (maximum 200 characters)."
        assert status_label("awaiting_consent") == "Awaiting consent"
        assert role_label("koordinerende_enhet") == "Coordinating unit"
    with app.test_request_context("/"):
        assert ngettext("Legg til minst %(num)s rad.", "Legg til minst %(num)s rader.", 3) == "Legg til minst 3 rader."
        assert status_label("awaiting_consent") == "Venter på samtykke"


# --- the catalogue ---------------------------------------------------------------------------

def test_catalog_has_no_untranslated_or_fuzzy_entries():
    catalog = _catalog()
    assert catalog.locale is not None and str(catalog.locale) == "en"
    entries = _entries()
    assert len(entries) > 100
    fuzzy = [m.id for m in entries if m.fuzzy]
    untranslated = [m.id for m in entries if not all(s and s.strip() for s in _strings(m))]
    assert not fuzzy, f"fuzzy entries in {PO.name} (review them, remove '#, fuzzy'): {fuzzy}"
    assert not untranslated, f"untranslated entries in {PO.name}: {untranslated}"
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"


def test_plural_entries_have_both_forms():
    plurals = [m for m in _entries() if m.pluralizable]
    assert plurals, "expected ngettext entries (webapp/taskforms/schema.py)"
    for m in plurals:
        assert isinstance(m.string, tuple) and len(m.string) == 2 and all(m.string), m.id


def test_placeholders_are_kept():
    for m in _entries():
        wanted = sorted(set(PLACEHOLDER.findall(" ".join(_ids(m)))))
        for translated in _strings(m):
            assert sorted(set(PLACEHOLDER.findall(translated))) == wanted, (m.id, translated)


def test_catalog_matches_the_source():
    """Every string wrapped in the code is in the .po (run extract + update after adding strings)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    in_source = {msgid for _file, _line, msgid, _comments, _context
                 in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}
    in_po = {m.id for m in _entries()}
    missing = sorted(map(str, in_source - in_po))
    assert not missing, ("strings in the code but not in messages.po - run the extract/update "
                         f"commands in docs/translations.md and translate them: {missing}")


def test_compiled_catalog_is_up_to_date():
    assert MO.exists(), "run: pybabel compile -d webapp/translations"
    with MO.open("rb") as f:
        compiled = {_ids(m): tuple(_strings(m)) for m in read_mo(f) if m.id}
    stale = [m.id for m in _entries() if compiled.get(_ids(m)) != tuple(_strings(m))]
    assert not stale, f"messages.mo is older than messages.po; run pybabel compile: {stale}"


@pytest.mark.parametrize("msgid, english", [
    ("Ansvarsgruppe", "Responsibility group"),
    ("Koordinerende enhet", "Coordinating unit"),
    ("Systemansvarlig", "System owner"),
    ("Samtykke", "Consent"),
    ("Tilsyn", "Supervision"),
    ("Foresatt", "Guardian"),
    ("Pårørende", "Relative"),
    ("Tjenesteyter", "Service provider"),
])
def test_domain_terms(msgid, english):
    assert {m.id: m.string for m in _entries()}[msgid] == english
