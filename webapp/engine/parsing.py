"""Hardened parsing and deploy-time validation of BPMN/DMN diagrams.

Diagrams come from process owners, whom we treat as untrusted: the XML is parsed from bytes with
an lxml parser that resolves no entities, loads no DTD, touches no network and refuses huge
trees; any DOCTYPE is refused outright (XXE, billion laughs). Each document is then checked
against the BPMN 2.0 schema and for elements the engine does not support; only then does
SpiffWorkflow see the tree. Everything that could fail at run time because of the diagram
(unknown handler, missing form, forbidden or unparsable expression, unbounded timer or loop) is
reported here instead, with file, line and element id.

Two rules hold for every message produced here:

* it says in plain Norwegian (bokmål) what to change; process owners read it in the browser. The
  engine has no gettext, so the Norwegian text is written here. Anything that comes from
  SpiffWorkflow or lxml goes through ``clean_message`` (no Python class names, reprs, memory
  addresses or namespace URIs); the common libxml2 messages are put in Norwegian
  (``xml_syntax_message``, ``schema_message``), and whatever text we cannot recognise is kept
  after a Norwegian lead-in;
* validation is linear in the size of the library: every document is indexed once (``index_tree``)
  and each problem is located with dictionary look-ups.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from webapp.engine import durations, expressions

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
#: Largest literal multi-instance loopCardinality and standard-loop loopMaximum.
MAX_CARDINALITY = 1000
#: Schema problems reported per document (they tend to cascade); the rest are summarised.
MAX_SCHEMA_PROBLEMS = 50
#: Longest message taken over from SpiffWorkflow or lxml.
MAX_MESSAGE = 300

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_PROPERTY = "formJsonSchemaFilename"

#: what to use instead of a script (in several messages)
_USE_INSTEAD = "bruk en tjenesteoppgave (service task) med en registrert tjeneste (handler), eller et uttrykk"
SCRIPTS_NOT_SUPPORTED = f"skriptoppgaver (script task) støttes ikke; {_USE_INSTEAD}"

_PREFIXES = {
    BPMN_NS: "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    SPIFF_NS: "spiffworkflow",
    "http://www.w3.org/2001/XMLSchema": "xsd",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "dmn",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "dmn",
}

# Flow elements: a process without any of these is an empty (black-box) pool.
_FLOW_ELEMENTS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
    "complexGateway", "sequenceFlow",
}

# Event definitions SpiffWorkflow 3.2 implements per kind of event (anything else it ignores
# silently or fails on), and whether the event may have no definition at all.
_EVENT_DEFINITIONS = {
    "startEvent": ({"message", "signal", "timer", "conditional"}, True),
    "endEvent": ({"message", "cancel", "error", "escalation", "terminate"}, True),
    "intermediateCatchEvent": ({"message", "signal", "timer", "conditional"}, False),
    "intermediateThrowEvent": ({"message", "signal", "escalation"}, True),
    "boundaryEvent": ({"message", "signal", "timer", "conditional", "error", "escalation", "cancel"}, False),
}


@dataclass(frozen=True)
class ValidationLimits:
    """Bounds applied when validating a diagram (settings may pass their own)."""

    timers: durations.TimerLimits = durations.TimerLimits()
    max_cardinality: int = MAX_CARDINALITY
    expressions: expressions.Limits = expressions.DEFAULT_LIMITS


DEFAULT_LIMITS = ValidationLimits()


@dataclass(frozen=True)
class Problem:
    """One validation finding, addressed the way a process owner can find it."""

    file: str
    line: int | None
    element_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


class DiagramError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------------------------
# Messages from SpiffWorkflow and lxml

_NAMESPACED = re.compile(r"\{([^{}\s]*)\}([A-Za-z_][\w.-]*|\*)")
_ELEMENT_REPR = re.compile(r"<Element\s+(\S+)\s+at\s+0x[0-9a-fA-F]+>")
_ANY_REPR = re.compile(r"<[^<>]*\bat 0x[0-9a-fA-F]+>")
_ADDRESS = re.compile(r"\s*\b0x[0-9a-fA-F]+\b")
_BYTES_REPR = re.compile(r"""\bb(['"]).*?(?<!\\)\1""", re.S)
_EXCEPTION_REPR = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Iteration|Warning)\s*\(")
_PYTHON_WORDS = re.compile(
    r"\b[A-Z]\w*(Error|Exception)\b|Traceback|\b__\w+__\b|\bNoneType\b|\bself\b|\bkwargs?\b"
    r"|\b\w+\(\) (got|takes|missing)\b")
_UNREADABLE = ("motoren kunne ikke lese dette elementet; sjekk at det er fullstendig og at alle "
               "referanser i det peker på elementer som finnes")


def _prefixed(match: re.Match) -> str:
    prefix = _PREFIXES.get(match.group(1))
    name = "hvilket som helst element" if match.group(2) == "*" and not prefix else match.group(2)
    return f"{prefix}:{name}" if prefix else name


def clean_message(text: object, *, from_python: bool = True) -> str:
    """A message from SpiffWorkflow or lxml, fit to show a process owner: namespace URIs become
    prefixes (``{…/MODEL}task`` → ``bpmn:task``), element reprs become tag names, addresses
    disappear. With ``from_python`` (messages built by Python code, i.e. SpiffWorkflow), byte
    dumps are dropped too, and a message that is really an internal exception, or still shows
    Python internals, becomes a plain one. (libxml2's own messages are plain already; they may
    quote author text such as ``b'x'`` that must not be touched.)"""
    text = str(text or "")[: 8 * MAX_MESSAGE]  # bounded work for every pattern below
    if from_python and _EXCEPTION_REPR.match(text):
        return _UNREADABLE
    text = _ELEMENT_REPR.sub(lambda m: _NAMESPACED.sub(_prefixed, m.group(1)), text)
    text = _ANY_REPR.sub("", text)
    text = _NAMESPACED.sub(_prefixed, text)
    if from_python:
        text = _BYTES_REPR.sub("", text)
    text = _ADDRESS.sub("", text)
    text = " ".join(text.split()).strip(" .:") if text.strip() else ""
    if not text or (from_python and _PYTHON_WORDS.search(text)):
        return _UNREADABLE
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE].rstrip() + "…"
    return text


#: the events of ``_EVENT_DEFINITIONS`` in Norwegian, with the name bpmn-js shows
_EVENT_NAMES = {
    "intermediateCatchEvent": ("mottakende mellomhendelse", "intermediate catch event"),
    "intermediateThrowEvent": ("sendende mellomhendelse", "intermediate throw event"),
    "boundaryEvent": ("kanthendelse", "boundary event"),
    "startEvent": ("starthendelse", "start event"),
    "endEvent": ("slutthendelse", "end event"),
}


def spiff_message(exc: BaseException) -> str:
    """Plain Norwegian for an exception raised while SpiffWorkflow reads a diagram. The cases we
    know are written out; any other SpiffWorkflow text (English) follows a Norwegian lead-in."""
    if not isinstance(exc, ValidationException):
        if isinstance(exc, RecursionError):
            return ("prosessen er for lang eller for dypt nestet til at motoren kan lese den; "
                    "del den opp i mindre prosesser")
        return _UNREADABLE
    raw = str(exc.args[0]) if exc.args else ""
    tag = clean_message(getattr(exc, "tag", "") or "") if getattr(exc, "tag", "") else "ukjent type"
    if "RecursionError" in raw:
        return spiff_message(RecursionError())
    if "Unsupported Catch Event" in raw:
        return ("motoren støtter ikke dette elementet (en kanthendelse uten en definisjon motoren "
                "støtter); gi den en definisjon av typen timer, message, signal, error, escalation, "
                "conditional eller cancel")
    if "raise_validation_exception" in raw and "'node'" in raw:
        return ("hendelsen viser til en feil (error), eskalering (escalation), et signal eller en "
                "melding (message) som ikke er definert i dette diagrammet")
    if "Cannot resolve dataInputAssociation" in raw or "Cannot resolve dataOutputAssociation" in raw:
        kind = "inn" if "Input" in raw else "ut"
        return (f"en data{kind}gang (data {'input' if kind == 'inn' else 'output'} association) i dette "
                "elementet viser til et dataobjekt eller datalager som ikke finnes i denne prosessen")
    if "There is no support implemented for this task type" in raw:
        return f"motoren støtter ikke dette elementet ({tag})"
    if raw.startswith("No start event found"):
        return "prosessen har ingen starthendelse (start event)"
    if raw.startswith("Multiple outgoing flows are not supported"):
        return ("dette elementet har mer enn én utgående sekvensflyt; bruk en gateway for å dele "
                "flyten")
    found = re.match(r"When looking for a task spec.*\((.*)\)", raw, re.S)
    if found:
        return f"en sekvensflyt fra dette elementet peker på «{found.group(1)}», som ikke finnes"
    message = clean_message(raw)
    return message if message == _UNREADABLE else f"diagrammet kunne ikke leses: {message}"


# --------------------------------------------------------------------------------------------
# libxml2's messages in Norwegian

#: ", line 3, column 5" that lxml appends to a syntax error (the line is reported separately)
_WHERE = re.compile(r",?\s*line (\d+), column (\d+)\s*$")
_XML_SYNTAX = tuple((re.compile(pattern), words) for pattern, words in (
    (r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)",
     r"sluttaggen </\3> passer ikke til starttaggen <\1> på linje \2"),
    (r"Premature end of data in tag (\S+) line (\d+)",
     r"filen slutter før elementet <\1> fra linje \2 er lukket"),
    (r"Document is empty", "filen er tom"),
    (r"Start tag expected, '<' not found", "filen er ikke XML (den begynner ikke med <)"),
    (r"Extra content at the end of the document", "det står noe etter slutten av rotelementet"),
    (r"Attribute (\S+) redefined", r"attributtet «\1» står to ganger i samme element"),
    (r"AttValue: \" or ' expected", "en attributtverdi mangler anførselstegn"),
    (r"Specification mandates value for attribute (\S+)", r"attributtet «\1» mangler verdi"),
    (r"attributes construct error", "attributtene i et element er skrevet feil"),
    (r"Couldn't find end of Start Tag (\S+).*", r"starttaggen <\1> er ikke avsluttet med >"),
    (r"Unescaped '<' not allowed in attributes values", "< er ikke tillatt i en attributtverdi; skriv &lt;"),
    (r"Entity '(.*)' not defined", r"entiteten «&\1;» er ikke definert (skriv &amp; for &)"),
    (r"xmlParseEntityRef: no name", "et & står alene; skriv &amp;"),
    (r"Namespace prefix (\S+) (?:for \S+ )?on (\S+) is not defined",
     r"navneromsprefikset «\1» (i «\2») er ikke definert"),
    (r"StartTag: invalid element name", "ugyldig elementnavn etter <"),
    (r"Comment not terminated.*", "en kommentar (<!-- … -->) er ikke avsluttet"),
    (r"CData section not finished.*", "en CDATA-seksjon er ikke avsluttet"),
    (r"Sequence '\]\]>' not allowed in content", "]]> er ikke tillatt i tekst"),
    (r"Unsupported encoding: (.*)", r"tegnkodingen «\1» støttes ikke; bruk UTF-8"),
    (r"Invalid bytes in character encoding", "filen har tegn som ikke er gyldig UTF-8"),
    (r"(?:Invalid character: )?Char.* out of allowed range.*|PCDATA invalid Char value.*",
     "filen inneholder et tegn som ikke er tillatt i XML"),
))


def xml_syntax_message(text: str, line: int | None) -> str:
    """An lxml syntax error (``XMLSyntaxError.msg``) in Norwegian: "XML-feil på linje N: …"."""
    text = " ".join(str(text or "").split())[: 8 * MAX_MESSAGE]
    where = _WHERE.search(text)
    if where:
        text = text[: where.start()]
        line = line or int(where.group(1))
    message = clean_message(text, from_python=False)
    for pattern, words in _XML_SYNTAX:
        if pattern.fullmatch(text):
            message = clean_message(pattern.sub(words, text), from_python=False)
            break
    return f"XML-feil på linje {line}: {message}" if line else f"XML-feil: {message}"


_SCHEMA_SUBJECT = re.compile(r"Element '([^']*)'(?:, attribute '([^']*)')?: (.*)", re.S)
_ATOMIC = {"xs:integer": "et heltall", "xs:int": "et heltall", "xs:nonNegativeInteger": "et heltall på minst 0",
           "xs:positiveInteger": "et heltall på minst 1", "xs:boolean": "true eller false",
           "xs:ID": "en gyldig id (den må begynne med en bokstav eller _, og kan ikke ha mellomrom)",
           "xs:IDREF": "en gyldig id", "xs:QName": "et gyldig navn", "xs:anyURI": "en gyldig adresse (URI)"}
_SCHEMA_TEXT = tuple((re.compile(pattern, re.S), words) for pattern, words in (
    (r"The attribute '([^']*)' is not allowed", r"attributtet «\1» er ikke tillatt her"),
    (r"The attribute '([^']*)' is required but missing", r"attributtet «\1» mangler"),
    (r"This element is not expected\. Expected is one of \( (.*) \)",
     r"elementet står ikke der det skal; her ventes ett av disse: \1"),
    (r"This element is not expected\. Expected is \( (.*) \)",
     r"elementet står ikke der det skal; her ventes \1"),
    (r"This element is not expected", "elementet står ikke der det skal"),
    (r"Missing child element\(s\)\. Expected is one of \( (.*) \)",
     r"det mangler et underelement; her ventes ett av disse: \1"),
    (r"Missing child element\(s\)\. Expected is \( (.*) \)",
     r"det mangler et underelement; her ventes \1"),
    (r"Character content other than whitespace is not allowed because the content type is 'element-only'",
     "elementet kan ikke inneholde tekst, bare andre elementer"),
    (r"\[facet 'enumeration'\] The value '([^']*)' is not an element of the set \{(.*)\}",
     r"«\1» er ikke en av de tillatte verdiene (\2)"),
    (r"No match found for key-sequence \['([^']*)'\] of keyref '[^']*'",
     r"«\1» viser til et element som ikke finnes"),
    (r"Duplicate key-sequence \['([^']*)'\] in unique identity-constraint '[^']*'",
     r"«\1» er brukt mer enn én gang"),
))
_NOT_ATOMIC = re.compile(r"'(.*)' is not a valid value of the (?:atomic|union|list) type '([^']*)'", re.S)


def schema_message(text: str) -> str:
    """A libxml2 XML Schema message (already through ``clean_message``) in Norwegian, where we
    recognise it; otherwise the cleaned text is kept as it is."""
    subject = _SCHEMA_SUBJECT.fullmatch(text)
    if subject is None:
        return text
    element, attribute, rest = subject.groups()
    where = f"«{element}»" + (f", attributtet «{attribute}»" if attribute else "")
    value = _NOT_ATOMIC.fullmatch(rest)
    if value:
        wanted = _ATOMIC.get(value.group(2), f"en gyldig verdi av typen {value.group(2)}")
        return f"{where}: «{value.group(1)}» er ikke {wanted}"
    for pattern, words in _SCHEMA_TEXT:
        if pattern.fullmatch(rest):
            translated = pattern.sub(words, rest)
            if attribute and translated.startswith(f"attributtet «{attribute}» er ikke tillatt"):
                return f"attributtet «{attribute}» er ikke tillatt i «{element}»"
            return f"{where}: {translated}"
    return f"{where}: {rest}"


# --------------------------------------------------------------------------------------------
# XML

def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_blank_text=False,
    )


_NO_DOCTYPE = "DOCTYPE/DTD er ikke tillatt i diagrammer; fjern <!DOCTYPE …> øverst i filen"


def parse_xml(data: bytes, filename: str) -> etree._ElementTree:
    """Parse diagram bytes safely or raise DiagramError."""
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramError([Problem(filename, None, None,
                                    f"filen er større enn {MAX_DIAGRAM_BYTES // 1024} KiB")])
    try:
        tree = etree.fromstring(data, _xml_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        if b"<!DOCTYPE" in data:
            raise DiagramError([Problem(filename, line or 1, None, _NO_DOCTYPE)]) from None
        raise DiagramError([Problem(filename, line, None, xml_syntax_message(exc.msg, line))]) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DiagramError([Problem(filename, 1, None, _NO_DOCTYPE)])
    return tree


@dataclass
class TreeIndex:
    """One pass over a document: every element by id, sequence flows by their ends, ids used
    twice. Built once per document; every problem is then located by dictionary look-up."""

    elements: dict[str, etree._Element] = field(default_factory=dict)
    flows: dict[tuple[str, str], str] = field(default_factory=dict)
    duplicates: list[tuple[str, int | None]] = field(default_factory=list)

    def line(self, element_id: str | None) -> int | None:
        element = self.elements.get(element_id) if element_id else None
        return element.sourceline if element is not None else None


def index_tree(tree: etree._ElementTree) -> TreeIndex:
    """Index a document. Also finds BPMN element ids used twice, or equal to a handler name
    (SpiffWorkflow indexes every ``id`` attribute, so a handler named like an element breaks
    parsing obscurely)."""
    index = TreeIndex()
    operators = []
    flow_tag = f"{{{BPMN_NS}}}sequenceFlow"
    operator_tag = f"{{{SPIFF_NS}}}serviceTaskOperator"
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str):
            continue
        element_id = element.get("id")
        if element_id is None:
            continue
        if element.tag == operator_tag:
            operators.append((element_id, element.sourceline))
            continue
        if not element.tag.startswith(f"{{{BPMN_NS}}}"):
            index.elements.setdefault(element_id, element)
            continue
        if element_id in index.elements and index.elements[element_id].tag.startswith(f"{{{BPMN_NS}}}"):
            index.duplicates.append((element_id, element.sourceline))
            continue
        index.elements[element_id] = element
        if element.tag == flow_tag:
            index.flows.setdefault((element.get("sourceRef"), element.get("targetRef")), element_id)
    index.duplicates += [(name, line) for name, line in operators
                         if name in index.elements and index.elements[name].tag.startswith(f"{{{BPMN_NS}}}")]
    return index


def _nearest_id(element) -> str | None:
    while element is not None:
        if isinstance(element.tag, str) and element.get("id"):
            return element.get("id")
        element = element.getparent()
    return None


_schema_lock = threading.Lock()
_schema: list[BpmnValidator] = []


def _bpmn_schema() -> BpmnValidator:
    """SpiffWorkflow's BPMN 2.0 XSD validator, loaded once. (SpiffWorkflow's own validator with
    the spiffworkflow extension schema is not used: that schema demands a ``parameters`` element
    in every ``serviceTaskOperator``, which SpiffWorkflow itself does not need; the extension
    elements are checked in ``_extension_problems`` instead.)"""
    if not _schema:
        _schema.append(BpmnValidator())
    return _schema[0]


def _schema_problems(tree: etree._ElementTree, name: str) -> list[Problem]:
    """BPMN 2.0 XSD findings for one document (extension elements are not covered)."""
    with _schema_lock:
        validator = _bpmn_schema()
        validator.preprocess(tree)
        if validator.validator.validate(tree):
            return []
        errors = [(e.line, e.message) for e in validator.validator.error_log]
    by_line: dict[int, etree._Element] = {}
    for element in tree.getroot().iter():
        if isinstance(element.tag, str):
            by_line.setdefault(element.sourceline, element)
    problems = []
    for line, message in errors[:MAX_SCHEMA_PROBLEMS]:
        element = by_line.get(line)
        element_id = _nearest_id(element) if element is not None else None
        problems.append(Problem(name, line or None, element_id,
                                f"følger ikke BPMN 2.0-skjemaet: "
                                f"{schema_message(clean_message(message, from_python=False))}"))
    if len(errors) > MAX_SCHEMA_PROBLEMS:
        problems.append(Problem(name, None, None, f"følger ikke BPMN 2.0-skjemaet: "
                                f"{len(errors) - MAX_SCHEMA_PROBLEMS} skjemafeil til vises ikke"))
    return problems


def _localname(element) -> str:
    return etree.QName(element).localname


def _structure_problems(tree: etree._ElementTree, name: str) -> list[Problem]:
    """Elements SpiffWorkflow would ignore silently or fail on obscurely: unsupported event
    definitions, incomplete spiffworkflow extensions, non-numeric loop maximums."""
    problems = []

    def add(element, message: str) -> None:
        problems.append(Problem(name, element.sourceline, _nearest_id(element), message))

    for element in tree.getroot().iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if qname.namespace == BPMN_NS:
            kind = qname.localname
            if kind in _EVENT_DEFINITIONS:
                _check_event(element, kind, add)
            elif kind == "standardLoopCharacteristics":
                maximum = element.get("loopMaximum")
                if maximum is not None and not (maximum.strip().isdigit() and maximum.strip().isascii()):
                    add(element, f"loopMaximum må være et heltall (høyst {MAX_CARDINALITY})")
        elif qname.namespace == SPIFF_NS:
            kind = qname.localname
            if kind == "property" and (element.get("name") is None or element.get("value") is None):
                add(element, "en spiffworkflow:property trenger både navn (name) og verdi (value)")
            elif kind == "serviceTaskOperator" and not element.get("id"):
                add(element, "tjenesteoppgaven sier ikke hvilken tjeneste (handler) den bruker "
                             "(id-en til spiffworkflow:serviceTaskOperator)")
            elif kind == "parameter" and "value" in element.attrib and (
                    not element.get("id") or element.get("type") is None):
                add(element, "en parameter til en tjenesteoppgave trenger id, type og verdi (value)")
            elif kind == "retry":
                for attr in ("retries", "backoff_base"):
                    value = element.get(attr)
                    if value is not None and not (value.strip().isdigit() and value.strip().isascii()):
                        add(element, f"retry {attr} må være et heltall")
    return problems


def _either(words: Iterable[str]) -> str:
    words = sorted(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " eller " + words[-1]


def _check_event(element, kind: str, add) -> None:
    allowed, may_be_empty = _EVENT_DEFINITIONS[kind]
    definitions = []
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN_NS:
            continue
        child_kind = _localname(child)
        if child_kind == "eventDefinitionRef":
            add(element, "hendelsesdefinisjoner gitt som referanse (eventDefinitionRef) støttes ikke; "
                         "legg definisjonen inne i hendelsen")
        elif child_kind.endswith("EventDefinition"):
            definitions.append(child_kind[: -len("EventDefinition")])
    event, bpmn_name = _EVENT_NAMES[kind]
    for definition in definitions:
        if definition not in allowed:
            add(element, f"motoren støtter ikke dette elementet: en {event} ({bpmn_name}) med "
                         f"{definition}-definisjon; en {event} kan ha en definisjon av typen "
                         f"{_either(allowed)}")
    if not definitions and not may_be_empty:
        add(element, f"en {event} ({bpmn_name}) trenger en definisjon av typen {_either(allowed)}")


def _is_empty_process(node) -> bool:
    return not any(isinstance(child.tag, str) and etree.QName(child).namespace == BPMN_NS
                   and _localname(child) in _FLOW_ELEMENTS for child in node)


# --------------------------------------------------------------------------------------------
# The library

class ParsedLibrary:
    """The result of parsing a set of documents: the Spiff parser, the lxml trees and one index
    per tree. ``check_schema`` (default on) runs the BPMN 2.0 XSD and the structure checks."""

    def __init__(self, documents: Mapping[str, bytes | str], *, check_schema: bool = True):
        self.trees: dict[str, etree._ElementTree] = {}
        self.indexes: dict[str, TreeIndex] = {}
        self._files_by_id: dict[str, str] | None = None
        self.parser = SpiffBpmnParser()
        problems: list[Problem] = []
        for name, content in documents.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            try:
                tree = parse_xml(data, name)
            except DiagramError as exc:
                problems.extend(exc.problems)
                continue
            self.trees[name] = tree
            index = self.indexes[name] = index_tree(tree)
            self._files_by_id = None  # the cross-file map is rebuilt when next needed
            if index.duplicates:
                problems.extend(Problem(name, line, element_id,
                                        f"id-en «{element_id}» er brukt mer enn én gang (en id kan ikke "
                                        "være lik id-en til et annet element eller navnet på en "
                                        "tjeneste (handler))")
                                for element_id, line in index.duplicates)
                continue
            is_dmn = name.endswith(".dmn")
            if check_schema and not is_dmn:
                found = _schema_problems(tree, name) or _structure_problems(tree, name)
                if found:
                    problems.extend(found)
                    continue
            try:
                if is_dmn:
                    self.parser.add_dmn_xml(tree.getroot(), filename=name)
                else:
                    self.parser.add_bpmn_xml(tree.getroot(), filename=name)
            except Exception as exc:  # noqa: BLE001 - any parser failure becomes a Problem
                problems.append(self.problem_from(exc, name))
        if problems:
            raise DiagramError(problems)

    def locate(self, file: str, element_id: str | None) -> tuple[str, int | None]:
        """(file, line) of an element: looked up in ``file`` first, then in the other files."""
        if not element_id:
            return file, None
        index = self.indexes.get(file)
        if index is not None and element_id in index.elements:
            return file, index.line(element_id)
        if self._files_by_id is None:  # built once, on the first look-up outside ``file``
            self._files_by_id = {}
            for name, other in self.indexes.items():
                for known in other.elements:
                    self._files_by_id.setdefault(known, name)
        name = self._files_by_id.get(element_id)
        return (name, self.indexes[name].line(element_id)) if name else (file, None)

    def flow_id(self, file: str, source_id: str, target_id: str) -> str | None:
        index = self.indexes.get(file)
        return index.flows.get((source_id, target_id)) if index is not None else None

    def problem_from(self, exc: BaseException, file: str, element_id: str | None = None) -> Problem:
        """A Problem for any exception raised by SpiffWorkflow while reading ``file``."""
        if isinstance(exc, ValidationException):
            file = exc.file_name or file
            element_id = exc.id or element_id
        file, line = self.locate(file, element_id)
        if line is None and isinstance(getattr(exc, "line_number", None), int) and exc.line_number > 0:
            line = exc.line_number
        return Problem(file, line, element_id or None, spiff_message(exc))

    def process_ids(self) -> list[str]:
        """The executable processes; pools without a process or with an empty one (black-box
        pools, drawn only to show who else takes part) are left out."""
        ids = []
        for process_id in self.parser.get_process_ids():
            node = self.parser.get_process_parser(process_id).node
            if _localname(node) == "process" and not _is_empty_process(node):
                ids.append(process_id)
        return sorted(ids)

    def file_of(self, process_id: str) -> str:
        return self.parser.get_process_parser(process_id).filename

    def name_of(self, process_id: str) -> str:
        return self.parser.get_process_parser(process_id).get_name() or process_id

    def specs(self, process_id: str):
        """(spec, subprocess_specs) or DiagramError."""
        try:
            spec = self.parser.get_spec(process_id)
            subprocess_specs = self.parser.get_subprocess_specs(process_id)
        except Exception as exc:  # noqa: BLE001 - any parser failure becomes a Problem
            parser = self.parser.get_process_parser(process_id)
            file = parser.filename if parser is not None else next(iter(self.trees), "?")
            raise DiagramError([self.problem_from(exc, file, process_id)]) from None
        return spec, subprocess_specs

    def files_for(self, process_id: str) -> list[str]:
        """The documents a process needs: its own file, called processes' files, DMN files."""
        needed = {self.file_of(process_id)}
        for called in self.parser.get_process_dependencies():
            pp = self.parser.get_process_parser(called)
            if pp is not None:
                needed.add(pp.filename)
        needed.update(n for n in self.trees if n.endswith(".dmn"))
        return sorted(needed)


def iter_task_specs(spec, subprocess_specs) -> Iterable:
    yield from spec.task_specs.values()
    for sub in subprocess_specs.values():
        yield from sub.task_specs.values()


def form_name(task_spec) -> str | None:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(FORM_PROPERTY)


def check_form_schema(schema: object) -> str | None:
    """Return an error message if ``schema`` is not a usable JSON Schema form, else None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "skjemaet må være et JSON Schema-objekt med \"type\": \"object\""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        return f"skjemaet er ikke gyldig JSON Schema{f' (ved {where})' if where else ''}: {exc.message}"
    return None


# --------------------------------------------------------------------------------------------
# Validation of one process

def validate_process(
    library: ParsedLibrary,
    process_id: str,
    forms: Mapping[str, object],
    handler_names: Iterable[str],
    provider_names: Mapping[str, Iterable[str]] | None = None,
    limits: ValidationLimits | None = None,
) -> list[Problem]:
    """Deploy-time checks of one process; an empty list means deployable. ``provider_names``
    lists the known ``defaults``/``context``/``options`` providers of the web layer. Never
    raises: whatever goes wrong becomes a Problem."""
    try:
        spec, subprocess_specs = library.specs(process_id)
    except DiagramError as exc:
        return exc.problems
    checker = _ProcessChecker(library, forms, set(handler_names),
                              {k: set(v) for k, v in (provider_names or {}).items()},
                              limits or DEFAULT_LIMITS)
    default_file = library.file_of(process_id)
    for workflow_spec in [spec, *subprocess_specs.values()]:
        if workflow_spec is None:
            continue
        file = getattr(workflow_spec, "file", None) or default_file
        for ts in workflow_spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if not bpmn_id:
                continue
            try:
                checker.check_task(file, bpmn_id, ts)
            except Exception:  # noqa: BLE001 - a check must never crash validation
                checker.problem(file, bpmn_id, "dette elementet kunne ikke kontrolleres; sjekk at det "
                                "er fullstendig og at referansene peker på elementer som finnes")
    return checker.problems


class _ProcessChecker:
    def __init__(self, library: ParsedLibrary, forms, handlers: set[str],
                 provider_names: dict[str, set[str]], limits: ValidationLimits):
        self.library = library
        self.forms = forms
        self.handlers = handlers
        self.provider_names = provider_names
        self.limits = limits
        self.problems: list[Problem] = []
        self._form_errors: dict[str, str | None] = {}  # each form's schema is checked once

    def problem(self, file: str, element_id: str, message: str) -> None:
        file, line = self.library.locate(file, element_id)
        self.problems.append(Problem(file, line, element_id, message))

    def expression(self, file: str, element_id: str, source: object, what: str) -> bool:
        """Check an expression; True if it is usable (or absent)."""
        if source is None or (isinstance(source, str) and not source.strip()):
            return True
        try:
            expressions.check(str(source), self.limits.expressions)
        except expressions.ExpressionError as exc:
            self.problem(file, element_id, f"{what}: {_expression_message(exc)}")
            return False
        return True

    def constant(self, source: str):
        """(True, value) if the expression needs no process data, else (False, None)."""
        try:
            return True, expressions.evaluate(str(source), {}, self.limits.expressions)
        except expressions.ExpressionError:
            return False, None

    def check_task(self, file: str, bpmn_id: str, ts) -> None:
        props = (getattr(ts, "extensions", None) or {}).get("properties", {}) or {}
        kind = type(ts).__name__
        if kind == "UserTask":
            self.check_user_task(file, bpmn_id, ts)
        if kind == "ServiceTask":
            if ts.operation_name not in self.handlers:
                self.problem(file, bpmn_id, f"ukjent tjeneste (handler) «{ts.operation_name}»")
            for pname, param in (ts.operation_params or {}).items():
                self.expression(file, bpmn_id, param.get("value"), f"parameteren «{pname}»")
        if isinstance(ts, ScriptTask):
            self.problem(file, bpmn_id, SCRIPTS_NOT_SUPPORTED)
        for attr, label in (("prescript", "skript før oppgaven (pre-script)"),
                            ("postscript", "skript etter oppgaven (post-script)")):
            script = getattr(ts, attr, None)
            if script and str(script).strip():
                self.problem(file, bpmn_id, f"{label} støttes ikke; {_USE_INSTEAD}")
        for condition, target in getattr(ts, "cond_task_specs", None) or []:
            if condition is not None:
                target_id = str(target).removesuffix(".BoundaryEventSplit")
                flow = self.library.flow_id(file, bpmn_id, target_id) or bpmn_id
                self.expression(file, flow, condition.args[0], "betingelse")
        event_definition = getattr(ts, "event_definition", None)
        if event_definition is not None:
            self.check_event_definition(file, bpmn_id, event_definition)
        if isinstance(ts, MultiInstanceTask):
            self.check_multi_instance(file, bpmn_id, ts)
        if isinstance(ts, StandardLoopTask):
            self.check_standard_loop(file, bpmn_id, ts)
        if getattr(ts, "dmnEngine", None) is not None:
            self.check_decision_table(file, bpmn_id, ts.dmnEngine)
        for prop in ("assignee", "titleDetail", "dueDate"):
            self.expression(file, bpmn_id, props.get(prop), prop)
        for prop, known in (("formDefaults", self.provider_names.get("defaults")),
                            ("context", self.provider_names.get("context")),
                            ("formCheck", self.provider_names.get("checks"))):
            name = props.get(prop)
            if name is not None and known is not None and name not in known:
                self.problem(file, bpmn_id, f"ukjent {prop}-kilde (provider) «{name}»")
        for prop in ("formDataKey", "formDataFrom"):
            name = props.get(prop)
            if name is not None and not str(name).isidentifier():
                self.problem(file, bpmn_id, f"{prop} «{name}» må være et enkelt variabelnavn "
                             "(bokstaver, tall og _, uten mellomrom, ikke tall først)")
        due = props.get("dueIn")
        if due:
            try:
                durations.parse_duration(due, self.limits.timers)
            except durations.DurationError as exc:
                self.problem(file, bpmn_id, f"dueIn: {exc.message}")

    def check_user_task(self, file: str, bpmn_id: str, ts) -> None:
        name = form_name(ts)
        if not name:
            self.problem(file, bpmn_id, f"brukeroppgaven har ikke egenskapen {FORM_PROPERTY} "
                         "(skjemaet oppgaven viser)")
        elif name not in self.forms:
            self.problem(file, bpmn_id, f"skjemaet «{name}» finnes ikke")
        else:
            if name not in self._form_errors:
                self._form_errors[name] = check_form_schema(self.forms[name])
            error = self._form_errors[name]
            if error:
                self.problem(file, bpmn_id, f"skjemaet «{name}»: {error}")
            known_options = self.provider_names.get("options")
            for option_name in sorted(_option_names(self.forms[name])):
                if known_options is not None and option_name not in known_options:
                    self.problem(file, bpmn_id, f"skjemaet «{name}»: ukjent x-options-kilde (provider) "
                                 f"«{option_name}»")
        if not ts.lane:
            self.problem(file, bpmn_id, "brukeroppgaven ligger ikke i en svømmebane (lane); banen sier "
                         "hvilken rolle som gjør oppgaven")

    def check_event_definition(self, file: str, bpmn_id: str, definition) -> None:
        if isinstance(definition, MultipleEventDefinition):
            for inner in definition.event_definitions or []:
                self.check_event_definition(file, bpmn_id, inner)
        elif isinstance(definition, TimerEventDefinition):
            self.check_timer(file, bpmn_id, definition)
        elif isinstance(definition, ConditionalEventDefinition):
            self.expression(file, bpmn_id, definition.expression, "betingelse")
        elif isinstance(definition, MessageEventDefinition):
            self.expression(file, bpmn_id, getattr(definition, "expression", None),
                            "meldingsinnhold (message payload)")
            for prop in [*(definition.correlation_properties or []),
                         *(getattr(definition, "process_correlations", None) or [])]:
                self.expression(file, bpmn_id, getattr(prop, "retrieval_expression", None),
                                f"korrelasjonen «{getattr(prop, 'name', '')}»")

    def check_timer(self, file: str, bpmn_id: str, definition: TimerEventDefinition) -> None:
        if not self.expression(file, bpmn_id, definition.expression, "tidsuttrykk"):
            return
        if not definition.expression or not str(definition.expression).strip():
            self.problem(file, bpmn_id, "tidsuttrykket mangler verdi; skriv for eksempel «P14D»")
            return
        known, value = self.constant(definition.expression)
        if not known:
            return  # depends on process data; checked when the timer starts
        if isinstance(definition, CycleTimerEventDefinition):
            kind = "cycle"
        elif isinstance(definition, DurationTimerEventDefinition):
            kind = "duration"
        else:
            kind = "date"
        message = durations.timer_value_problem(kind, value, self.limits.timers)
        if message:
            self.problem(file, bpmn_id, f"tidsuttrykk: {message}")

    def check_multi_instance(self, file: str, bpmn_id: str, ts) -> None:
        cardinality = ts.cardinality
        if cardinality is not None and self.expression(file, bpmn_id, cardinality, "loopCardinality"):
            known, value = self.constant(cardinality)
            if known:
                bound = self.limits.max_cardinality
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    self.problem(file, bpmn_id, "loopCardinality må være et heltall på minst 0")
                elif value > bound:
                    self.problem(file, bpmn_id, f"loopCardinality {value} er mer enn de tillatte {bound}")
        self.expression(file, bpmn_id, ts.condition, "completionCondition")

    def check_standard_loop(self, file: str, bpmn_id: str, ts) -> None:
        bound = self.limits.max_cardinality
        if ts.maximum is None:
            self.problem(file, bpmn_id, f"en løkke (loop) trenger loopMaximum (høyst {bound}) så den "
                         "ikke kan gå i det uendelige")
        elif ts.maximum > bound:
            self.problem(file, bpmn_id, f"loopMaximum {ts.maximum} er mer enn de tillatte {bound}")
        self.expression(file, bpmn_id, ts.condition, "loopCondition")

    def check_decision_table(self, file: str, bpmn_id: str, engine) -> None:
        """Input expressions and output entries of the DMN table the task calls; reported at
        the DMN element (``locate`` finds it in the DMN file). Input entries (``< 18`` …) are
        fragments, not expressions; they are bounded by the evaluator at run time."""
        table = getattr(engine, "decision_table", None)
        if table is None:
            return
        for item in getattr(table, "inputs", None) or []:
            label = getattr(item, "label", None) or getattr(item, "name", None) or ""
            self.expression(file, getattr(item, "id", None) or bpmn_id, getattr(item, "expression", None),
                            f"inndataene «{label}» i beslutningstabellen")
        for rule in getattr(table, "rules", None) or []:
            for entry in getattr(rule, "outputEntries", None) or []:
                self.expression(file, getattr(entry, "id", None) or getattr(rule, "id", None) or bpmn_id,
                                getattr(entry, "text", None),
                                f"utdataene i regel {getattr(rule, 'row_number', '')} i beslutningstabellen")


def _expression_message(exc: Exception) -> str:
    message = getattr(exc, "message", None) or "uttrykket kunne ikke leses"
    line = getattr(exc, "line", None)
    message = str(message)
    if isinstance(line, int) and line > 1 and f"linje {line}" not in message:
        message += f" (linje {line} i uttrykket)"
    return message


def _option_names(schema) -> set[str]:
    """Every ``x-options`` provider a form names, at any depth."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key in ("x-options", "x-shown-with"):
            if isinstance(schema.get(key), str):
                found.add(schema[key])
        for value in schema.values():
            found |= _option_names(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _option_names(value)
    return found


#: the json module's messages in Norwegian
_JSON_WORDS = {
    "Expecting value": "her mangler en verdi",
    "Expecting ',' delimiter": "her mangler et komma (,)",
    "Expecting ':' delimiter": "her mangler et kolon (:)",
    "Expecting property name enclosed in double quotes":
        "her ventes et feltnavn i doble anførselstegn (står det et komma for mye foran?)",
    "Unterminated string starting at": "en tekst mangler anførselstegn på slutten",
    "Extra data": "det står noe etter slutten av skjemaet",
    "Invalid control character at": "ugyldig kontrolltegn i en tekst",
    "Invalid \\escape": "ugyldig \\-sekvens i en tekst",
    "Invalid \\uXXXX escape": "ugyldig \\u-sekvens i en tekst",
}


def load_form_file(name: str, data: bytes) -> dict:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DiagramError([Problem(name, None, None, "skjemafilen er ikke UTF-8-tekst")]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        words = _JSON_WORDS.get(exc.msg, exc.msg)
        raise DiagramError([Problem(name, exc.lineno, None,
                                    f"skjemafilen er ikke gyldig JSON: {words} (kolonne {exc.colno})")]) from None
    except RecursionError:
        raise DiagramError([Problem(name, None, None, "skjemafilen er nestet for dypt")]) from None
