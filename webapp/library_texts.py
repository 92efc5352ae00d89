"""The process library's own texts in the reader's language.

The diagrams (`processes/`) and forms (`forms/`) are written in Norwegian bokmål: process and task
names, guideline text (``bpmn:documentation``), form titles, labels, help and choices. Their
translations live in gettext catalogues next to them, ``processes/translations/<lang>/LC_MESSAGES/
processes.po`` and ``forms/translations/<lang>/LC_MESSAGES/forms.po``, extracted with the two Babel
extractors below (``babel-library.cfg``; commands in docs/translations.md). A text without a
translation (a version a process owner wrote in the workbench, say) is shown as written.

The engine stays untouched: it stores and returns the Norwegian texts; the web layer translates
them as it renders (a task's schema, guideline and title; the names in an episode's steps).
"""
from __future__ import annotations

import functools
import gettext
import json
from pathlib import Path
from typing import Any, Iterator

import ast

from flask import current_app, has_app_context, has_request_context
from flask_babel import get_locale
from lxml import etree

#: the catalogue domains, by the config key of the folder they live in
DOMAINS = (("PROCESSES_DIR", "processes"), ("FORMS_DIR", "forms"))
#: form keywords whose string values are texts for the reader
FORM_TEXT_KEYS = ("title", "description", "x-help", "x-submit")
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
#: service-task parameters that are texts for people: a message's subject and body
#: (``handlers/messages.py`` sends them in each recipient's language)
MESSAGE_PARAMETERS = ("subject", "body")
#: BPMN elements whose ``name`` is shown (lanes name case roles and are not texts)
NAMED = ("process", "participant", "userTask", "serviceTask", "startEvent", "endEvent", "boundaryEvent",
         "intermediateCatchEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "sequenceFlow",
         "callActivity", "subProcess", "manualTask", "scriptTask", "sendTask", "receiveTask")


# --- reading the catalogues ------------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _catalogues(folders: tuple[str, ...], lang: str) -> tuple[gettext.NullTranslations, ...]:
    found = []
    for folder, domain in zip(folders, (d for _key, d in DOMAINS)):
        try:
            found.append(gettext.translation(domain, localedir=str(Path(folder) / "translations"), languages=[lang]))
        except OSError:  # no catalogue for this language: the source text
            continue
    return tuple(found)


def _lang() -> str:
    if not has_request_context():
        return "nb"
    return str(get_locale() or "nb")


def translate(text: str | None, lang: str | None = None) -> str | None:
    """``text`` (a name, a guideline, a label from the library) in the reader's language, or in
    ``lang`` (a message to someone else: their language)."""
    lang = lang or _lang()
    if not text or lang == "nb" or not has_app_context():
        return text
    folders = tuple(str(current_app.config[key]) for key, _domain in DOMAINS)
    for catalogue in _catalogues(folders, lang):
        translated = catalogue.gettext(text)
        if translated != text:
            return translated
    return text


def title(value: str | None, lang: str | None = None) -> str | None:
    """A task title as the projection stores it, "<task name> – <detail>": the name translated, the
    detail (a person's name, a date) kept."""
    if not value:
        return value
    name, sep, detail = value.partition(" – ")
    return f"{translate(name, lang)}{sep}{detail}"


def schema(form: dict) -> dict:
    """A copy of a form's schema with its texts translated (titles, descriptions, help, choices,
    the submit button); names, constraints and option providers unchanged."""
    if _lang() == "nb":
        return form
    return _translated(form)


def _translated(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in FORM_TEXT_KEYS and isinstance(value, str):
                out[key] = translate(value)
            elif key == "x-enumTitles" and isinstance(value, list):
                out[key] = [translate(v) if isinstance(v, str) else v for v in value]
            else:
                out[key] = _translated(value)
        return out
    if isinstance(node, list):
        return [_translated(v) for v in node]
    return node


# --- Babel extractors (babel-library.cfg) ----------------------------------------------------

def form_texts(form: Any, path: str = "") -> Iterator[str]:
    """The texts of a form schema, in document order."""
    if isinstance(form, dict):
        for key, value in form.items():
            if key in FORM_TEXT_KEYS and isinstance(value, str) and value.strip():
                yield value
            elif key == "x-enumTitles" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str) and v.strip())
            else:
                yield from form_texts(value)
    elif isinstance(form, list):
        for value in form:
            yield from form_texts(value)


def extract_form(fileobj, keywords, comment_tags, options):
    """Babel extractor for forms/*.json: (line, funcname, message, comments)."""
    source = fileobj.read().decode("utf-8")
    lines = source.splitlines()
    for text in form_texts(json.loads(source)):
        encoded = json.dumps(text, ensure_ascii=False)
        line = next((i + 1 for i, row in enumerate(lines) if encoded in row), 1)
        yield line, None, text, []


def extract_bpmn(fileobj, keywords, comment_tags, options):
    """Babel extractor for processes/*.bpmn: element names and documentation. Parsed with entities,
    DTDs and the network off, like every diagram."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(fileobj.read(), parser)
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith(BPMN):
            continue
        local = element.tag[len(BPMN):]
        if local in NAMED and (element.get("name") or "").strip():
            yield element.sourceline, None, element.get("name"), [f"{local} {element.get('id')}"]
        elif local == "documentation" and (element.text or "").strip():
            parent = element.getparent()
            yield element.sourceline, None, element.text, [f"documentation of {parent.get('id')}"]
    for element in root.iter(f"{SPIFF}parameter"):
        text = message_literal(element)
        if text:
            yield element.sourceline, None, text, [f"message {element.get('id')}"]


def message_literal(parameter) -> str | None:
    """A message parameter's text when the diagram writes it as a plain string literal (an
    expression built from data has nothing fixed to translate)."""
    if parameter.get("id") not in MESSAGE_PARAMETERS:
        return None
    try:
        value = ast.literal_eval((parameter.get("value") or "").strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) and value.strip() else None
