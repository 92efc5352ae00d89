"""Hardened parsing and deploy-time validation of BPMN/DMN diagrams.

Diagrams come from process owners, whom we treat as untrusted: the XML is parsed from bytes with
an lxml parser that resolves no entities, loads no DTD, touches no network and refuses huge
trees; any DOCTYPE is refused outright (XXE, billion laughs). Only then does SpiffWorkflow see the
tree. Everything that could fail at run time because of the diagram (unknown handler, missing
form, forbidden or unparsable expression, invalid timer) is reported here instead, with file,
line and element id.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Mapping

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from webapp.engine import sandbox

MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FORM_PROPERTY = "formJsonSchemaFilename"


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


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_blank_text=False,
    )


def parse_xml(data: bytes, filename: str) -> etree._ElementTree:
    """Parse diagram bytes safely or raise DiagramError."""
    if len(data) > MAX_DIAGRAM_BYTES:
        raise DiagramError([Problem(filename, None, None,
                                    f"file is larger than {MAX_DIAGRAM_BYTES // 1024} KiB")])
    try:
        tree = etree.fromstring(data, _xml_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if getattr(exc, "lineno", None) else None
        raise DiagramError([Problem(filename, line, None, f"broken XML: {exc.msg}")]) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DiagramError([Problem(filename, 1, None, "DOCTYPE/DTD is not allowed in diagrams")])
    return tree


def _duplicate_ids(tree: etree._ElementTree) -> list[tuple[str, int | None]]:
    """BPMN element ids used twice, or equal to a handler name (SpiffWorkflow indexes every
    ``id`` attribute, so a handler named like an element breaks parsing obscurely)."""
    bpmn_ids: dict[str, int | None] = {}
    duplicates = []
    operators = []
    for element in tree.getroot().iter():
        if not isinstance(element.tag, str) or element.get("id") is None:
            continue
        namespace = etree.QName(element).namespace
        if namespace == BPMN_NS:
            if element.get("id") in bpmn_ids:
                duplicates.append((element.get("id"), element.sourceline))
            bpmn_ids[element.get("id")] = element.sourceline
        elif etree.QName(element).localname == "serviceTaskOperator":
            operators.append((element.get("id"), element.sourceline))
    duplicates += [(name, line) for name, line in operators if name in bpmn_ids]
    return duplicates


def _line_of(trees: Mapping[str, etree._ElementTree], element_id: str) -> tuple[str, int | None]:
    for name, tree in trees.items():
        found = tree.getroot().xpath("//*[@id=$id]", id=element_id)
        if found:
            return name, found[0].sourceline
    return next(iter(trees), "?"), None


class ParsedLibrary:
    """The result of parsing a set of documents: the Spiff parser and the lxml trees."""

    def __init__(self, documents: Mapping[str, bytes | str]):
        self.trees: dict[str, etree._ElementTree] = {}
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
            duplicates = _duplicate_ids(tree)
            if duplicates:
                problems.extend(Problem(name, line, element_id,
                                        f"the id '{element_id}' is used more than once (an element id may "
                                        "not equal another element's id or a handler name)")
                                for element_id, line in duplicates)
                continue
            try:
                if name.endswith(".dmn"):
                    self.parser.add_dmn_xml(tree.getroot(), filename=name)
                else:
                    self.parser.add_bpmn_xml(tree.getroot(), filename=name)
            except ValidationException as exc:
                problems.append(_from_spiff(exc, name))
            except SpiffWorkflowException as exc:
                problems.append(Problem(name, None, None, str(exc)))
        if problems:
            raise DiagramError(problems)

    def process_ids(self) -> list[str]:
        return sorted(self.parser.get_process_ids())

    def file_of(self, process_id: str) -> str:
        return self.parser.get_process_parser(process_id).filename

    def name_of(self, process_id: str) -> str:
        return self.parser.get_process_parser(process_id).get_name() or process_id

    def specs(self, process_id: str):
        """(spec, subprocess_specs) or DiagramError."""
        try:
            spec = self.parser.get_spec(process_id)
            subprocess_specs = self.parser.get_subprocess_specs(process_id)
        except ValidationException as exc:
            raise DiagramError([_from_spiff(exc, self.file_of(process_id))]) from None
        except SpiffWorkflowException as exc:
            raise DiagramError([Problem(self.file_of(process_id), None, None, str(exc))]) from None
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


def _from_spiff(exc: ValidationException, default_file: str) -> Problem:
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
    message = exc.args[0] if exc.args else str(exc)
    return Problem(exc.file_name or default_file, line, exc.id or None, str(message))


def iter_task_specs(spec, subprocess_specs) -> Iterable:
    yield from spec.task_specs.values()
    for sub in subprocess_specs.values():
        yield from sub.task_specs.values()


def form_name(task_spec) -> str | None:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(FORM_PROPERTY)


def check_form_schema(schema: object) -> str | None:
    """Return an error message if ``schema`` is not a usable JSON Schema form, else None."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "the form must be a JSON Schema object with \"type\": \"object\""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"invalid JSON Schema: {exc.message}"
    return None


def validate_process(
    library: ParsedLibrary,
    process_id: str,
    forms: Mapping[str, object],
    handler_names: Iterable[str],
    provider_names: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """Deploy-time checks of one process; an empty list means deployable. ``provider_names``
    lists the known ``defaults``/``context``/``options`` providers of the web layer."""
    provider_names = {k: set(v) for k, v in (provider_names or {}).items()}
    try:
        spec, subprocess_specs = library.specs(process_id)
    except DiagramError as exc:
        return exc.problems
    handlers = set(handler_names)
    problems: list[Problem] = []

    def problem(element_id: str, message: str) -> None:
        file, line = _line_of(library.trees, element_id)
        problems.append(Problem(file, line, element_id, message))

    def check(element_id: str, source: str | None, what: str, script: bool = False) -> None:
        if not source:
            return
        try:
            (sandbox.check_script if script else sandbox.check_expression)(source)
        except sandbox.SandboxError as exc:
            problem(element_id, f"{what}: {exc.message}")

    for ts in iter_task_specs(spec, subprocess_specs):
        bpmn_id = getattr(ts, "bpmn_id", None)
        if not bpmn_id:
            continue
        kind = type(ts).__name__
        if kind == "UserTask":
            name = form_name(ts)
            if not name:
                problem(bpmn_id, f"user task has no {FORM_PROPERTY} property")
            elif name not in forms:
                problem(bpmn_id, f"form '{name}' does not exist")
            else:
                error = check_form_schema(forms[name])
                if error:
                    problem(bpmn_id, f"form '{name}': {error}")
                known_options = provider_names.get("options")
                for option_name in _option_names(forms[name]):
                    if known_options is not None and option_name not in known_options:
                        problem(bpmn_id, f"form '{name}': unknown x-options provider '{option_name}'")
            if not ts.lane:
                problem(bpmn_id, "user task is not in a lane (the lane names the role that does it)")
        if kind == "ServiceTask":
            if ts.operation_name not in handlers:
                problem(bpmn_id, f"unknown handler '{ts.operation_name}'")
            for pname, param in (ts.operation_params or {}).items():
                check(bpmn_id, param.get("value"), f"parameter '{pname}'")
        if kind == "ScriptTask":
            check(bpmn_id, ts.script, "script", script=True)
        for attr in ("prescript", "postscript"):
            check(bpmn_id, getattr(ts, attr, None), attr, script=True)
        for condition, _target in getattr(ts, "cond_task_specs", []):
            if condition is not None:
                check(bpmn_id, condition.args[0], "condition")
        event_definition = getattr(ts, "event_definition", None)
        if isinstance(event_definition, TimerEventDefinition):
            _check_timer(bpmn_id, event_definition, problem)
        for prop in ("assignee", "titleDetail", "dueDate"):
            check(bpmn_id, (getattr(ts, "extensions", None) or {}).get("properties", {}).get(prop), prop)
        for prop, known in (("formDefaults", provider_names.get("defaults")), ("context", provider_names.get("context"))):
            name = (getattr(ts, "extensions", None) or {}).get("properties", {}).get(prop)
            if name is not None and known is not None and name not in known:
                problem(bpmn_id, f"unknown {prop} provider '{name}'")
        for prop in ("formDataKey", "formDataFrom"):
            name = (getattr(ts, "extensions", None) or {}).get("properties", {}).get(prop)
            if name is not None and not str(name).isidentifier():
                problem(bpmn_id, f"{prop} '{name}' must be a plain variable name")
        due = (getattr(ts, "extensions", None) or {}).get("properties", {}).get("dueIn")
        if due:
            try:
                TimerEventDefinition.parse_iso_duration(due)
            except Exception:
                problem(bpmn_id, f"dueIn '{due}' is not an ISO 8601 duration such as P14D")
    return problems


def _option_names(schema) -> set[str]:
    """Every ``x-options`` provider a form names, at any depth."""
    found: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("x-options"), str):
            found.add(schema["x-options"])
        for value in schema.values():
            found |= _option_names(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _option_names(value)
    return found


def _check_timer(bpmn_id: str, definition: TimerEventDefinition, problem) -> None:
    try:
        sandbox.check_expression(definition.expression)
    except sandbox.SandboxError as exc:
        problem(bpmn_id, f"timer expression: {exc.message}")
        return
    try:
        value = sandbox.evaluate(definition.expression, {})
    except sandbox.SandboxError:
        return  # depends on process data; checked when the timer starts
    try:
        kind = type(definition).__name__
        if kind == "CycleTimerEventDefinition":
            TimerEventDefinition.parse_iso_recurring_interval(str(value))
        elif kind == "DurationTimerEventDefinition":
            TimerEventDefinition.parse_iso_duration(str(value))
        else:
            TimerEventDefinition.parse_time_or_duration(str(value))
    except Exception:
        problem(bpmn_id, f"timer value {value!r} is not a valid ISO 8601 date, duration or cycle")


def load_form_file(name: str, data: bytes) -> dict:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiagramError([Problem(name, getattr(exc, "lineno", None), None,
                                    f"form is not valid JSON: {exc}")]) from None
