import ast
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from handlers import REGISTRY
from tests.conftest import DIAGRAMS, TEST_HANDLERS
from webapp.cli import main
from webapp.engine import parsing
from webapp.engine.durations import TimerLimits
from webapp.engine.library import LibrarySource, check_library, read_directory
from webapp.engine.parsing import (
    MAX_DIAGRAM_BYTES, DiagramError, ParsedLibrary, ValidationLimits, clean_message, parse_xml,
    spiff_message, validate_process,
)

HANDLERS = list(TEST_HANDLERS)
HOSTILE = DIAGRAMS / "hostile"
PROJECT = Path(__file__).resolve().parents[3]

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""


def test_xxe_is_rejected_without_reading_the_file():
    with pytest.raises(DiagramError) as err:
        parse_xml(XXE, "xxe.bpmn")
    assert "DOCTYPE" in str(err.value)
    assert "root:" not in str(err.value)


def test_billion_laughs_is_rejected_quickly():
    started = time.process_time()
    with pytest.raises(DiagramError) as err:
        parse_xml((HOSTILE / "billion_laughs.bpmn").read_bytes(), "laughs.bpmn")
    assert err.value.problems[0].line == 1 and "DOCTYPE" in err.value.problems[0].message
    assert time.process_time() - started < 5  # sanity bound on CPU only, not a speed assertion


def test_oversized_and_broken_xml():
    with pytest.raises(DiagramError) as err:
        parse_xml(b"<a>" + b" " * MAX_DIAGRAM_BYTES + b"</a>", "big.bpmn")
    assert "større enn" in str(err.value)
    with pytest.raises(DiagramError) as err:
        parse_xml(b'<?xml version="1.0"?>\n<definitions>\n  <process>\n</definitions>', "broken.bpmn")
    [problem] = err.value.problems
    assert problem.file == "broken.bpmn" and problem.line == 4
    assert problem.message == ("XML-feil på linje 4: sluttaggen </definitions> passer ikke til "
                               "starttaggen <process> på linje 3")


def _library_with(tmp_path, replace: tuple[str, str], name: str = "two_steps.bpmn"):
    folder = tmp_path / "p"
    shutil.copytree(DIAGRAMS, folder)
    path = folder / name
    text = path.read_text()
    assert replace[0] in text
    path.write_text(text.replace(*replace))
    return read_directory(folder, folder / "forms")


def _problem_for(source, element_id):
    checked = check_library(source, HANDLERS)
    found = [p for p in checked.problems if p.element_id == element_id]
    assert found, checked.problems
    return found[0]


def test_unknown_handler_is_reported_with_file_line_and_id(tmp_path):
    source = _library_with(tmp_path, ('id="test_explode"', 'id="no_such_handler"'), "failing.bpmn")
    problem = _problem_for(source, "call")
    assert problem.file == "failing.bpmn" and problem.line == 17
    assert "ukjent tjeneste (handler) «no_such_handler»" in problem.message


def test_missing_form(tmp_path):
    source = _library_with(tmp_path, ('value="comment.json"', 'value="missing.json"'))
    problem = _problem_for(source, "second")
    assert "skjemaet «missing.json» finnes ikke" in problem.message and problem.line


def test_unparsable_and_forbidden_conditions_name_the_sequence_flow(tmp_path):
    source = _library_with(tmp_path, ("y &gt; 5", "y &gt;"))
    problem = _problem_for(source, "f_big")
    assert problem.message.startswith("betingelse: ") and problem.file == "two_steps.bpmn"
    assert problem.line == _line_of(DIAGRAMS / "two_steps.bpmn", 'id="f_big"')
    source = _library_with(tmp_path / "b", ("y &gt; 5", "y.__class__"))
    assert _problem_for(source, "f_big").message.startswith("betingelse: punktum etter en verdi")


def test_invalid_timer_value(tmp_path):
    source = _library_with(tmp_path, ('"P1D"', '"om en dag"'), "timers.bpmn")
    problem = _problem_for(source, "wait")
    assert "ikke en ISO 8601-varighet" in problem.message and problem.file == "timers.bpmn" and problem.line


def test_cli_validate(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["processes", "validate", str(DIAGRAMS)])
    # the test-only handlers are not in the shipped registry, so those diagrams are reported
    assert "ukjent tjeneste (handler) «test_count»" in ok.output
    assert ok.exit_code == 1
    folder = tmp_path / "p"
    folder.mkdir()
    shutil.copy(DIAGRAMS / "timers.bpmn", folder)
    shutil.copytree(DIAGRAMS / "forms", tmp_path / "forms")
    bad = runner.invoke(main, ["processes", "validate", str(folder)])
    assert "timers.bpmn:17 [count]: ukjent tjeneste (handler) «test_count»" in bad.output
    (folder / "timers.bpmn").unlink()
    shutil.copy(HOSTILE / "black_box_pool.bpmn", folder)
    good = runner.invoke(main, ["processes", "validate", str(folder)])
    assert good.exit_code == 0, good.output
    assert "ok  black_box" in good.output
    (folder / "evil.bpmn").write_bytes(XXE)
    bad = runner.invoke(main, ["processes", "validate", str(folder / "evil.bpmn")])
    assert bad.exit_code == 1 and "evil.bpmn:1: DOCTYPE/DTD er ikke tillatt" in bad.output


def test_the_shipped_diagrams_validate_cleanly():
    source = read_directory(PROJECT / "processes", PROJECT / "forms")
    checked = check_library(source, REGISTRY)
    assert checked.problems == []
    assert len(checked.processes) == len(list((PROJECT / "processes").glob("*.bpmn")))


def test_the_test_diagrams_validate_cleanly():
    checked = check_library(read_directory(DIAGRAMS, DIAGRAMS / "forms"), HANDLERS)
    assert checked.problems == []


# --------------------------------------------------------------------------------------------
# Hostile diagrams: every refusal names file, line and element id in plain words.

def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle} not in {path}")


_INTERNAL = re.compile(r"0x[0-9a-f]|Error\(|\{http|TypeError|NotImplementedError|KeyError|ValueError"
                       r"|AttributeError|RecursionError|Exception|<Element|Traceback|\bb'")

HOSTILE_CASES = {
    # file: [(element id, line marker or None, words in the message)]
    "bad_data_input.bpmn": [("reads_data", 'id="reads_data"', "datainngang (data input association)")],
    "billion_laughs.bpmn": [(None, None, "DOCTYPE")],
    "compensate_boundary.bpmn": [
        ("undo", 'id="undo"', "motoren støtter ikke dette elementet: en kanthendelse (boundary event) "
                              "med compensate-definisjon")],
    "escalation_catch.bpmn": [
        ("catch_escalation", 'id="catch_escalation"',
         "mottakende mellomhendelse (intermediate catch event) med escalation-definisjon")],
    "link_catch.bpmn": [("link_def", 'id="link_def"',
                         "følger ikke BPMN 2.0-skjemaet: «bpmn:linkEventDefinition»: attributtet «name» mangler")],
    "link_catch_named.bpmn": [("catch_link", 'id="catch_link"',
                               "mottakende mellomhendelse (intermediate catch event) med link-definisjon")],
    "missing_error_ref.bpmn": [("failed", 'id="failed"', "ikke er definert i dette diagrammet")],
    "unexpected_attribute.bpmn": [
        ("odd_task", 'id="odd_task"',
         "følger ikke BPMN 2.0-skjemaet: attributtet «colour» er ikke tillatt i «bpmn:task»")],
    "script_task.bpmn": [
        ("compute", 'id="compute"', "skriptoppgaver (script task) støttes ikke; bruk en tjenesteoppgave "
                                    "(service task) med en registrert tjeneste (handler)"),
        ("with_prescript", 'id="with_prescript"', "skript før oppgaven (pre-script) støttes ikke")],
    "huge_timer.bpmn": [("wait_forever", 'id="wait_forever"', "«P99999999Y» er lengre enn de tillatte 10 år")],
    "unbounded_cycle.bpmn": [("every_second", 'id="every_second"', "gjentas i det uendelige")],
    "huge_cardinality.bpmn": [
        ("many", 'id="many"', "loopCardinality 1000000 er mer enn de tillatte 1000"),
        ("looping", 'id="looping"', "trenger loopMaximum")],
}


def _check_one(name: str, documents: dict | None = None, handlers=(), limits=None):
    documents = documents or {name: (HOSTILE / name).read_text()}
    if limits is None:
        return check_library(LibrarySource(documents), handlers).problems
    library = ParsedLibrary(documents)
    return [p for pid in library.process_ids() for p in validate_process(library, pid, {}, handlers, limits=limits)]


@pytest.mark.parametrize("name", sorted(HOSTILE_CASES))
def test_hostile_diagrams_give_plain_problems(name):
    problems = _check_one(name)  # never raises
    assert problems, name
    for problem in problems:
        assert problem.file == name
        assert not _INTERNAL.search(problem.message), problem
        assert not _INTERNAL.search(str(problem)), problem
    for element_id, marker, words in HOSTILE_CASES[name]:
        found = [p for p in problems if p.element_id == element_id and words in p.message]
        assert found, (element_id, words, problems)
        expected_line = _line_of(HOSTILE / name, marker) if marker else 1
        assert found[0].line == expected_line, found[0]
    assert len(problems) == len(HOSTILE_CASES[name]), problems


def test_every_hostile_fixture_is_covered():
    on_disk = {p.name for p in HOSTILE.glob("*.bpmn")}
    assert on_disk == set(HOSTILE_CASES) | {"black_box_pool.bpmn", "empty_pool.bpmn"}


def test_black_box_pool_is_accepted():
    checked = check_library(LibrarySource({"bb.bpmn": (HOSTILE / "black_box_pool.bpmn").read_text()}), [])
    assert checked.problems == []
    assert list(checked.processes) == ["black_box"]


def test_empty_pool_is_accepted_and_not_deployed():
    checked = check_library(LibrarySource({"ep.bpmn": (HOSTILE / "empty_pool.bpmn").read_text()}), [])
    assert checked.problems == []
    assert list(checked.processes) == ["with_empty_pool"]


def test_all_hostile_fixtures_together_never_raise():
    documents = {p.name: p.read_text() for p in sorted(HOSTILE.glob("*.bpmn"))}
    checked = check_library(LibrarySource(documents), [])
    assert {p.file for p in checked.problems} >= {"billion_laughs.bpmn", "unexpected_attribute.bpmn"}
    assert not any(_INTERNAL.search(str(p)) for p in checked.problems)


# --------------------------------------------------------------------------------------------
# Small inline diagrams

def _doc(body: str, process_id: str = "p", extra: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            'id="defs" targetNamespace="http://example.org/bpmn">\n'
            f'{extra}<bpmn:process id="{process_id}" isExecutable="true">\n'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
            f'{body}\n'
            '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>\n'
            '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="x"/>\n'
            '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end"/>\n'
            '</bpmn:process>\n</bpmn:definitions>\n')


def _task(before: str = "", after: str = "", tag: str = "task") -> str:
    """Element "x" between start and end; ``before`` holds extension elements, ``after`` loop
    characteristics (the order the BPMN schema asks for)."""
    return (f'<bpmn:{tag} id="x">{before}<bpmn:incoming>f1</bpmn:incoming>'
            f'<bpmn:outgoing>f2</bpmn:outgoing>{after}</bpmn:{tag}>')


def _mi(cardinality: str, extra: str = "") -> str:
    return _task(after='<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>'
                 f'{cardinality}</bpmn:loopCardinality>{extra}</bpmn:multiInstanceLoopCharacteristics>')


def _messages(body: str, limits=None, extra: str = "", handlers=()) -> list[str]:
    problems = _check_one("t.bpmn", {"t.bpmn": _doc(body, extra=extra)}, handlers, limits)
    for problem in problems:
        assert not _INTERNAL.search(str(problem)), problem
    return [p.message for p in problems]


def _timer(kind: str, value: str) -> str:
    return (f'<bpmn:intermediateCatchEvent id="x"><bpmn:incoming>f1</bpmn:incoming>'
            f'<bpmn:outgoing>f2</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:{kind}>{value}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def test_multi_instance_cardinality_is_bounded():
    assert _messages(_mi("1000")) == []
    assert _messages(_mi("how_many")) == []  # from data: bounded at run time
    assert _messages(_mi("1001")) == ["loopCardinality 1001 er mer enn de tillatte 1000"]
    assert _messages(_mi("-1")) == ["loopCardinality må være et heltall på minst 0"]
    assert _messages(_mi("2.5")) == ["loopCardinality må være et heltall på minst 0"]
    assert _messages(_mi("how_many.__class__"))[0].startswith("loopCardinality: punktum etter en verdi")
    tight = ValidationLimits(max_cardinality=5)
    assert _messages(_mi("6"), tight) == ["loopCardinality 6 er mer enn de tillatte 5"]
    assert _messages(_mi("5"), tight) == []


def test_multi_instance_completion_condition_is_checked():
    [message] = _messages(_mi("3", "<bpmn:completionCondition>done ==</bpmn:completionCondition>"))
    assert message.startswith("completionCondition: ")


def test_standard_loops_need_a_bounded_maximum():
    loop = '<bpmn:standardLoopCharacteristics{}><bpmn:loopCondition>{}</bpmn:loopCondition></bpmn:standardLoopCharacteristics>'
    assert _messages(_task(after=loop.format(' loopMaximum="10"', "done != True"))) == []
    assert "trenger loopMaximum (høyst 1000)" in _messages(_task(after=loop.format("", "done != True")))[0]
    assert _messages(_task(after=loop.format(' loopMaximum="1001"', "x"))) == [
        "loopMaximum 1001 er mer enn de tillatte 1000"]
    assert _messages(_task(after=loop.format(' loopMaximum="3"', "x =")))[0].startswith("loopCondition: ")
    [message] = _messages(_task(after=loop.format(' loopMaximum="lots"', "x")))
    assert message == ("følger ikke BPMN 2.0-skjemaet: «bpmn:standardLoopCharacteristics», attributtet "
                       "«loopMaximum»: «lots» er ikke et heltall")


@pytest.mark.parametrize("kind, value, words", [
    ("timeDuration", '"P99999999Y"', "tidsuttrykk: «P99999999Y» er lengre enn de tillatte 10 år"),
    ("timeDuration", '"PT"', "mangler et tall"),
    ("timeCycle", '"R/PT1S"', "gjentas i det uendelige"),
    ("timeCycle", '"R5/PT1S"', "oftere enn tillatt"),
    ("timeDate", '"2999-01-01"', "etter år 2200"),
    ("timeDate", '"snart"', "ikke en ISO 8601-dato"),
    ("timeDuration", "wait_for.__class__", "tidsuttrykk: "),
    ("timeDuration", "14", "varigheten må være tekst i anførselstegn"),
])
def test_timer_values_are_bounded(kind, value, words):
    [message] = _messages(_timer(kind, value))
    assert words in message


@pytest.mark.parametrize("kind, value", [
    ("timeDuration", '"P14D"'), ("timeCycle", '"R3/PT1H"'), ("timeDate", '"2026-05-01T09:00"'),
    ("timeDuration", "wait_for"), ("timeDate", 'deadline["at"]'),
])
def test_good_and_data_driven_timers_pass(kind, value):
    assert _messages(_timer(kind, value)) == []


def test_timer_limits_come_from_the_limits_object():
    limits = ValidationLimits(timers=TimerLimits(max_duration_days=7))
    assert _messages(_timer("timeDuration", '"P7D"'), limits) == []
    assert "lengre enn de tillatte 7 dager" in _messages(_timer("timeDuration", '"P8D"'), limits)[0]


def test_due_in_must_be_a_bounded_literal_duration():
    def user_task(due):
        return _task('<bpmn:extensionElements><spiffworkflow:properties>'
                     f'<spiffworkflow:property name="dueIn" value="{due}"/>'
                     '</spiffworkflow:properties></bpmn:extensionElements>')
    assert _messages(user_task("P14D")) == []
    assert _messages(user_task("P99999999Y")) == [
        "dueIn: «P99999999Y» er lengre enn de tillatte 10 år (3700 dager)"]
    assert "ikke en ISO 8601-varighet" in _messages(user_task("om to uker"))[0]


def test_user_task_property_expressions_are_checked():
    props = ('<bpmn:extensionElements><spiffworkflow:properties>'
             '<spiffworkflow:property name="titleDetail" value="x.__class__"/>'
             '<spiffworkflow:property name="assignee" value="import os"/>'
             '</spiffworkflow:properties></bpmn:extensionElements>')
    messages = _messages(_task(props))
    assert sorted(m.split(":")[0] for m in messages) == ["assignee", "titleDetail"]


def test_service_task_parameters_are_checked():
    operator = ('<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="h"><spiffworkflow:parameters>'
                '<spiffworkflow:parameter id="who" type="str" value="{}"/>'
                '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>')
    assert _messages(_task(operator.format("&quot;koordinator&quot;"), tag="serviceTask"), handlers=["h"]) == []
    [message] = _messages(_task(operator.format("().__class__"), tag="serviceTask"), handlers=["h"])
    assert message.startswith("parameteren «who»: ")
    assert _messages(_task(operator.format("1"), tag="serviceTask"), handlers=["other"]) == [
        "ukjent tjeneste (handler) «h»"]


def test_conditional_event_expression_is_checked():
    event = ('<bpmn:intermediateCatchEvent id="x"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
             '<bpmn:conditionalEventDefinition><bpmn:condition>{}</bpmn:condition>'
             '</bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>')
    assert _messages(event.format("ready == True")) == []
    assert _messages(event.format("ready ==")) == ["betingelse: syntaksfeil på linje 1: ugyldig syntaks"]


def test_incomplete_extensions_are_plain_problems():
    no_name = '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property value="v"/></spiffworkflow:properties></bpmn:extensionElements>'
    assert _messages(_task(no_name)) == ["en spiffworkflow:property trenger både navn (name) og verdi (value)"]
    no_handler = '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator/></bpmn:extensionElements>'
    assert "sier ikke hvilken tjeneste (handler)" in _messages(_task(no_handler, tag="serviceTask"))[0]


def test_unsupported_element_types_are_plain_problems():
    gateway = ('<bpmn:complexGateway id="x"><bpmn:incoming>f1</bpmn:incoming>'
               '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:complexGateway>')
    [message] = _messages(gateway)
    assert message == "motoren støtter ikke dette elementet (bpmn:complexGateway)"
    none_catch = '<bpmn:intermediateCatchEvent id="x"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:intermediateCatchEvent>'
    assert _messages(none_catch) == [
        "en mottakende mellomhendelse (intermediate catch event) trenger en definisjon av typen "
        "conditional, message, signal eller timer"]


def test_dangling_sequence_flow_is_a_plain_problem():
    body = _task() + '<bpmn:sequenceFlow id="f9" sourceRef="end" targetRef="nowhere"/>'
    messages = _messages(body)
    assert messages == ["en sekvensflyt fra dette elementet peker på «nowhere», som ikke finnes"]


def test_problems_without_schema_check_still_never_leak_internals():
    # With the schema and structure checks off, SpiffWorkflow itself meets the broken element
    # (a property without a name: KeyError inside its parser).
    no_name = '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property value="v"/></spiffworkflow:properties></bpmn:extensionElements>'
    library = ParsedLibrary({"t.bpmn": _doc(_task(no_name))}, check_schema=False)
    [problem] = validate_process(library, "p", {}, [])
    assert problem.element_id == "x" and problem.file == "t.bpmn" and problem.line == 5
    assert not _INTERNAL.search(problem.message)
    assert "motoren kunne ikke lese dette elementet" in problem.message


def test_an_internal_error_while_building_the_spec_becomes_a_problem(monkeypatch):
    library = ParsedLibrary({"t.bpmn": _doc(_task())})

    def explode(*_args, **_kwargs):
        raise TypeError("unexpected keyword argument 'node' <Element {http://x}task at 0x7f00>")

    monkeypatch.setattr(library.parser, "get_spec", explode)
    [problem] = validate_process(library, "p", {}, [])
    assert problem.file == "t.bpmn" and problem.element_id == "p" and problem.line == 3
    assert not _INTERNAL.search(problem.message)


def test_an_internal_error_while_adding_a_document_becomes_a_problem(monkeypatch):
    def explode(*_args, **_kwargs):
        raise KeyError("name")

    monkeypatch.setattr(parsing.SpiffBpmnParser, "add_bpmn_xml", explode)
    with pytest.raises(DiagramError) as err:
        ParsedLibrary({"t.bpmn": _doc(_task())})
    [problem] = err.value.problems
    assert problem.file == "t.bpmn" and not _INTERNAL.search(problem.message)


# --------------------------------------------------------------------------------------------
# Messages from SpiffWorkflow and lxml

def _vex(message, **kwargs):
    return ValidationException(message, **kwargs)


@pytest.mark.parametrize("raw, expected", [
    ("Cannot resolve dataInputAssociation <Element {http://www.omg.org/spec/BPMN/20100524/MODEL}sourceRef at 0x7f91c2fddec0>",
     "en datainngang (data input association) i dette elementet viser til et dataobjekt eller datalager "
     "som ikke finnes i denne prosessen"),
    ("TypeError(\"NodeParser.raise_validation_exception() got an unexpected keyword argument 'node'\")",
     "hendelsen viser til en feil (error), eskalering (escalation), et signal eller en melding (message) "
     "som ikke er definert i dette diagrammet"),
    ("NotImplementedError('Unsupported Catch Event: %r', b'<bpmn:boundaryEvent xmlns:bpmn=\"http://www.omg.org\"/>')",
     "en kanthendelse uten en definisjon motoren støtter"),
    ("KeyError('name')", "motoren kunne ikke lese dette elementet"),
    ("ValueError(\"invalid literal for int() with base 10: 'x'\")", "motoren kunne ikke lese dette elementet"),
    ("RecursionError('maximum recursion depth exceeded')", "for lang eller for dypt nestet"),
    ("No start event found", "prosessen har ingen starthendelse"),
    # text we do not recognise keeps a Norwegian lead-in
    ("Something about {http://www.omg.org/spec/BPMN/20100524/MODEL}task here",
     "diagrammet kunne ikke leses: Something about bpmn:task here"),
    ("odd <Element {urn:x}thing at 0xdeadbeef> here", "diagrammet kunne ikke leses: odd thing here"),
])
def test_spiff_messages_are_cleaned(raw, expected):
    message = spiff_message(_vex(raw))
    assert expected in message
    assert not _INTERNAL.search(message)


def test_non_validation_exceptions_never_show_their_text():
    for exc in (TypeError("x() got an unexpected keyword argument 'node'"), KeyError("secret"),
                AttributeError("'NoneType' object has no attribute 'get'"), NotImplementedError("x")):
        message = spiff_message(exc)
        assert "motoren kunne ikke lese dette elementet" in message and not _INTERNAL.search(message)
    assert "for dypt nestet" in spiff_message(RecursionError())


def test_clean_message_of_lxml_schema_text():
    raw = ("Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}dataInputAssociation': Missing child "
           "element(s). Expected is one of ( {http://www.omg.org/spec/BPMN/20100524/MODEL}sourceRef ).")
    assert clean_message(raw) == ("Element 'bpmn:dataInputAssociation': Missing child element(s). "
                                  "Expected is one of ( bpmn:sourceRef )")
    assert clean_message("x" * 1000).endswith("…") and len(clean_message("x" * 1000)) <= 301
    assert "motoren kunne ikke lese dette elementet" in clean_message("")
    # libxml2 text is plain already: author values that look like Python are left alone
    raw = "Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}task', attribute 'b': The attribute 'b' is not allowed."
    assert clean_message(raw, from_python=False) == "Element 'bpmn:task', attribute 'b': The attribute 'b' is not allowed"


# --------------------------------------------------------------------------------------------
# Linear work

def _many_bad_conditions(count: int) -> str:
    ends = "\n".join(f'<bpmn:endEvent id="e{i}"><bpmn:incoming>c{i}</bpmn:incoming></bpmn:endEvent>'
                     for i in range(count))
    flows = "\n".join(f'<bpmn:sequenceFlow id="c{i}" sourceRef="split" targetRef="e{i}">'
                      f'<bpmn:conditionExpression>x &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>'
                      for i in range(count))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
            'targetNamespace="http://example.org/bpmn">\n<bpmn:process id="many" isExecutable="true">\n'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n'
            '<bpmn:exclusiveGateway id="split"><bpmn:incoming>f0</bpmn:incoming></bpmn:exclusiveGateway>\n'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split"/>\n'
            f'{ends}\n{flows}\n</bpmn:process>\n</bpmn:definitions>\n')


def test_five_thousand_bad_expressions_are_located_with_one_index(monkeypatch):
    calls = []
    real = parsing.index_tree

    def counting(tree):
        calls.append(tree)
        return real(tree)

    monkeypatch.setattr(parsing, "index_tree", counting)
    count = 5000
    document = _many_bad_conditions(count)
    assert len(document) < MAX_DIAGRAM_BYTES
    problems = check_library(LibrarySource({"many.bpmn": document}), []).problems
    assert len(problems) == count
    assert len(calls) == 1  # one index for the document, not one search per problem
    first_flow_line = 6 + count + 1  # declaration, definitions, process, start, gateway, f0, ends
    by_id = {p.element_id: p for p in problems}
    assert by_id["c0"].line == first_flow_line and by_id[f"c{count - 1}"].line == first_flow_line + count - 1
    assert all(p.file == "many.bpmn" and p.message.startswith("betingelse: ") for p in problems)


def test_parsing_no_longer_uses_the_sandbox():
    tree = ast.parse(Path(parsing.__file__).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
    assert not any("sandbox" in n for n in names)
    roots = {n.split(".")[0] for n in names}
    assert roots <= {"__future__", "json", "re", "threading", "dataclasses", "typing", "jsonschema",
                     "lxml", "SpiffWorkflow", "webapp"}
    assert all(n.startswith("webapp.engine") for n in names if n.startswith("webapp"))


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn_defs" name="D" namespace="http://example.org/dmn">
  <decision id="pick" name="Pick">
    <decisionTable id="table">
      <input id="in1" label="Alder"><inputExpression id="ie1" typeRef="integer"><text>{input}</text></inputExpression></input>
      <output id="out1" label="Gruppe" name="group" typeRef="string"/>
      <rule id="r1"><inputEntry id="e1"><text>&lt; 18</text></inputEntry><outputEntry id="o1"><text>"barn"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="e2"><text>&gt;= 18</text></inputEntry><outputEntry id="o2"><text>{output}</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def test_decision_table_expressions_are_checked_where_they_are_written():
    task = _task('<bpmn:extensionElements><spiffworkflow:calledDecisionId>pick</spiffworkflow:calledDecisionId>'
                 '</bpmn:extensionElements>', tag="businessRuleTask")
    good = {"t.bpmn": _doc(task), "d.dmn": DMN.format(input="age", output='"voksen"')}
    assert check_library(LibrarySource(good), []).problems == []
    bad = {"t.bpmn": _doc(task), "d.dmn": DMN.format(input="age.__class__", output="import os")}
    problems = check_library(LibrarySource(bad), []).problems
    assert [(p.file, p.line, p.element_id) for p in problems] == [("d.dmn", 5, "in1"), ("d.dmn", 8, "o2")]
    assert problems[0].message.startswith("inndataene «Alder» i beslutningstabellen: punktum etter en verdi")
    assert problems[1].message.startswith("utdataene i regel 2 i beslutningstabellen: import er ikke tillatt")


# --------------------------------------------------------------------------------------------
# Norwegian messages for what libxml2, json and jsonschema report

@pytest.mark.parametrize("data, line, expected", [
    (b"<a>\n<b>\n</a>", 3, "XML-feil på linje 3: sluttaggen </a> passer ikke til starttaggen <b> på linje 2"),
    (b"", 1, "XML-feil på linje 1: filen er tom"),
    (b"<a>", 1, "XML-feil på linje 1: filen slutter før elementet <a> fra linje 1 er lukket"),
    (b'<a x="1" x="2"/>', 1, "XML-feil på linje 1: attributtet «x» står to ganger i samme element"),
    (b"<a x=1/>", 1, "XML-feil på linje 1: en attributtverdi mangler anførselstegn"),
    (b"<a>&</a>", 1, "XML-feil på linje 1: et & står alene; skriv &amp;"),
    (b"<a/><b/>", 1, "XML-feil på linje 1: det står noe etter slutten av rotelementet"),
    (b"hello", 1, "XML-feil på linje 1: filen er ikke XML (den begynner ikke med <)"),
    (b"<x:a/>", 1, "XML-feil på linje 1: navneromsprefikset «x» (i «a») er ikke definert"),
    (b"<a>\x00</a>", 1, "XML-feil på linje 1: filen inneholder et tegn som ikke er tillatt i XML"),
    (b"<a>\xc3</a>", 1, "XML-feil på linje 1: filen har tegn som ikke er gyldig UTF-8"),
])
def test_xml_syntax_errors_are_told_in_norwegian(data, line, expected):
    with pytest.raises(DiagramError) as err:
        parse_xml(data, "f.bpmn")
    [problem] = err.value.problems
    assert (problem.line, problem.message) == (line, expected)
    assert not _INTERNAL.search(problem.message) and "column" not in problem.message


def test_unrecognised_xml_syntax_text_keeps_a_norwegian_lead_in():
    assert parsing.xml_syntax_message("Something new, line 7, column 2", None) == "XML-feil på linje 7: Something new"
    assert parsing.xml_syntax_message("Something new", None) == "XML-feil: Something new"


@pytest.mark.parametrize("raw, expected", [
    ("Element 'bpmn:task', attribute 'colour': The attribute 'colour' is not allowed",
     "attributtet «colour» er ikke tillatt i «bpmn:task»"),
    ("Element 'bpmn:sequenceFlow': The attribute 'targetRef' is required but missing",
     "«bpmn:sequenceFlow»: attributtet «targetRef» mangler"),
    ("Element 'bpmn:foo': This element is not expected. Expected is one of ( bpmn:outgoing, bpmn:property )",
     "«bpmn:foo»: elementet står ikke der det skal; her ventes ett av disse: bpmn:outgoing, bpmn:property"),
    ("Element 'bpmn:task': Character content other than whitespace is not allowed because the content "
     "type is 'element-only'", "«bpmn:task»: elementet kan ikke inneholde tekst, bare andre elementer"),
    ("Element 'bpmn:task', attribute 'isForCompensation': 'maybe' is not a valid value of the atomic type "
     "'xs:boolean'", "«bpmn:task», attributtet «isForCompensation»: «maybe» er ikke true eller false"),
    ("Element 'bpmn:exclusiveGateway', attribute 'gatewayDirection': [facet 'enumeration'] The value "
     "'sideways' is not an element of the set {'Unspecified', 'Mixed'}",
     "«bpmn:exclusiveGateway», attributtet «gatewayDirection»: «sideways» er ikke en av de tillatte "
     "verdiene ('Unspecified', 'Mixed')"),
    ("Element 'bpmn:task': Something libxml2 says in a new version",
     "«bpmn:task»: Something libxml2 says in a new version"),
    ("Not about an element", "Not about an element"),
])
def test_schema_messages_are_told_in_norwegian(raw, expected):
    assert parsing.schema_message(raw) == expected


def test_schema_problems_in_a_diagram_are_norwegian():
    body = _task().replace('<bpmn:task id="x">', '<bpmn:task id="x" isForCompensation="maybe">')
    assert _messages(body) == ["følger ikke BPMN 2.0-skjemaet: «bpmn:task», attributtet «isForCompensation»: "
                               "«maybe» er ikke true eller false"]


@pytest.mark.parametrize("data, line, expected", [
    (b"\xff\xfe", None, "skjemafilen er ikke UTF-8-tekst"),
    (b'{"type": "object",}', 1, "skjemafilen er ikke gyldig JSON: her ventes et feltnavn i doble anførselstegn"),
    (b'{"type": "object"\n "x": 1}', 2, "skjemafilen er ikke gyldig JSON: her mangler et komma (,) (kolonne 2)"),
    (b"", 1, "skjemafilen er ikke gyldig JSON: her mangler en verdi (kolonne 1)"),
    (b"[" * 100_000, None, "skjemafilen er nestet for dypt"),
])
def test_form_file_problems_are_norwegian(data, line, expected):
    with pytest.raises(DiagramError) as err:
        parsing.load_form_file("f.json", data)
    [problem] = err.value.problems
    assert problem.file == "f.json" and problem.line == line and expected in problem.message


def test_form_schema_problems_are_norwegian():
    assert parsing.check_form_schema({"type": "object"}) is None
    assert parsing.check_form_schema([]) == 'skjemaet må være et JSON Schema-objekt med "type": "object"'
    message = parsing.check_form_schema({"type": "object", "properties": {"x": {"type": 5}}})
    assert message.startswith("skjemaet er ikke gyldig JSON Schema (ved properties/x/type): ")


def _user_task(properties: str) -> str:
    """A user task "x" outside any lane."""
    return _task(f'<bpmn:extensionElements><spiffworkflow:properties>{properties}'
                 '</spiffworkflow:properties></bpmn:extensionElements>', tag="userTask")


def test_user_task_problems_say_what_to_add():
    form = '<spiffworkflow:property name="formJsonSchemaFilename" value="{}"/>'
    messages = _messages(_user_task(""))
    assert messages == ["brukeroppgaven har ikke egenskapen formJsonSchemaFilename (skjemaet oppgaven viser)",
                        "brukeroppgaven ligger ikke i en svømmebane (lane); banen sier hvilken rolle som "
                        "gjør oppgaven"]
    problems = _check_one("t.bpmn", {"t.bpmn": _doc(_user_task(form.format("x.json")))})
    assert "skjemaet «x.json» finnes ikke" in [p.message for p in problems]


def test_a_timer_without_a_value_says_what_to_write():
    assert _messages(_timer("timeDuration", "")) == ["tidsuttrykket mangler verdi; skriv for eksempel «P14D»"]
