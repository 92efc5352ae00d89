"""What changed between two versions of a process: its diagrams and its forms.

Elements are matched by id within the process (or collaboration) that holds them, across all
documents of a version, so an element that moves to another file is still the same element, and
the ``start`` of one process is never compared with the ``start`` of another. Only the semantic
model counts: the diagram interchange (``bpmndi``: shapes, edges, bounds) is layout, and
moving a shape is no change. Neither are bpmn-js' ``incoming``/``outgoing`` children, which
repeat what the sequence flows say.

Every element is looked at once, and each part of it by exactly one owner (nested flow nodes of a
sub-process are elements of their own), so comparing is linear in the size of the documents.
Details are in Norwegian for process owners.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from lxml import etree

from webapp.engine.parsing import SPIFF_NS, parse_xml
from webapp.workbench.bpmnxml import folded, local
from webapp.workbench.lint import FLOW_NODES, SUBPROCESSES

_S = f"{{{SPIFF_NS}}}"

#: Elements compared one by one. (Event definitions, conditions, loop characteristics and
#: extension elements belong to the element that holds them.)
TRACKED = FLOW_NODES | {
    "process", "participant", "messageFlow", "sequenceFlow", "lane", "dataObject",
    "dataObjectReference", "dataStore", "dataStoreReference", "message", "signal", "error",
    "escalation", "textAnnotation", "association",
}
#: Elements whose children may be tracked elements.
_CONTAINERS = SUBPROCESSES | {"process", "collaboration", "laneSet", "lane", "childLaneSet"}
#: Children not compared at all: redundant with the sequence flows, or handled by the lane.
_IGNORED = {"incoming", "outgoing", "flowNodeRef", "childLaneSet", "laneSet"}
_LOOPS = {"multiInstanceLoopCharacteristics", "standardLoopCharacteristics"}

#: Norwegian labels of the task properties the engine knows. The two deadlines keep their
#: property name so they can be told apart.
PROPERTY_LABELS = {
    "formJsonSchemaFilename": "Skjema",
    "dueIn": "Frist (dueIn)",
    "dueDate": "Frist (dueDate)",
    "assignee": "Tildelt",
    "titleDetail": "Tittel-tillegg",
    "formDefaults": "Standardverdier",
    "context": "Kontekst",
    "formCheck": "Skjemakontroll",
}
_PROPERTY_ORDER = {name: n for n, name in enumerate(PROPERTY_LABELS)}
ATTRIBUTE_LABELS = {
    "default": "Standardflyt",
    "attachedToRef": "Festet til",
    "cancelActivity": "Avbryter aktiviteten",
    "calledElement": "Kaller prosessen",
    "processRef": "Prosess",
    "isExecutable": "Kjørbar",
    "triggeredByEvent": "Startes av en hendelse",
    "isForCompensation": "Kompensasjon",
    "messageRef": "Melding",
}
_TIMER_KINDS = {"timeDate": "dato", "timeDuration": "varighet", "timeCycle": "syklus"}
_NONE = "(ingen)"


@dataclass
class ElementChange:
    element_id: str
    kind: str  # BPMN local name, e.g. "userTask"
    name: str | None
    change: str  # "added" | "removed" | "changed"
    details: list[str] = field(default_factory=list)  # Norwegian
    #: The process (or collaboration) that holds the element; "" for top-level elements.
    process_id: str = ""


@dataclass
class FormChange:
    form: str
    change: str  # "added" | "removed" | "changed"
    details: list[str] = field(default_factory=list)  # Norwegian


@dataclass
class VersionDiff:
    elements: list[ElementChange]
    forms: list[FormChange]

    def _ids(self, change: str) -> list[str]:
        return [e.element_id for e in self.elements if e.change == change]

    @property
    def added(self) -> list[str]:
        return self._ids("added")

    @property
    def removed(self) -> list[str]:
        return self._ids("removed")

    @property
    def changed(self) -> list[str]:
        return self._ids("changed")


@dataclass
class _Element:
    kind: str
    name: str | None
    facets: dict[str, object]


def diff_versions(a_docs: Mapping[str, str], a_forms: Mapping[str, dict],
                  b_docs: Mapping[str, str], b_forms: Mapping[str, dict]) -> VersionDiff:
    """Compare version a (before) with version b (after). Documents map file name to XML text,
    forms map file name to JSON Schema. Broken XML raises ``DiagramError``."""
    before, after = _model(a_docs), _model(b_docs)
    changes = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], k[0])):
        scope, element_id = key
        old, new = before.get(key), after.get(key)
        if old is None:
            changes.append(ElementChange(element_id, new.kind, new.name, "added",
                                         _route(new, scope, after, "Fra {} til {}"), scope))
        elif new is None:
            changes.append(ElementChange(element_id, old.kind, old.name, "removed",
                                         _route(old, scope, before, "Gikk fra {} til {}"), scope))
        else:
            details = _details(old, new, scope, after)
            if details:
                changes.append(ElementChange(element_id, new.kind, new.name, "changed", details, scope))
    forms = []
    for form in sorted(a_forms.keys() | b_forms.keys()):
        if form not in a_forms:
            forms.append(FormChange(form, "added"))
        elif form not in b_forms:
            forms.append(FormChange(form, "removed"))
        elif a_forms[form] != b_forms[form]:
            forms.append(FormChange(form, "changed", _form_details(a_forms[form], b_forms[form])))
    return VersionDiff(changes, forms)


# ------------------------------------------------------------------------------------------
# Reading a version


def _model(docs: Mapping[str, str]) -> dict[tuple[str, str], _Element]:
    """Every tracked element of a version by (scope, id). Documents are read in name order; an
    id used twice in one scope keeps its first element."""
    elements: dict[tuple[str, str], _Element] = {}
    lanes: dict[tuple[str, str], str] = {}  # (scope, flow node id) -> lane name
    for name in sorted(docs):
        content = docs[name]
        root = parse_xml(content.encode("utf-8") if isinstance(content, str) else content, name).getroot()
        stack = []
        for child in root:
            kind = local(child)
            if kind is not None:
                scope = child.get("id") or "" if kind in ("process", "collaboration") else ""
                stack.append((child, scope))
        stack.reverse()
        while stack:
            element, scope = stack.pop()
            kind = local(element)
            element_id = element.get("id")
            if kind in TRACKED and element_id:
                elements.setdefault((scope, element_id), _read(element, kind))
            if kind == "lane":
                lane_name = element.get("name") or element_id or ""
                for ref in element:
                    if local(ref) == "flowNodeRef" and ref.text and ref.text.strip():
                        lanes[(scope, ref.text.strip())] = lane_name  # nested lanes: the innermost wins
            if kind in _CONTAINERS:
                stack.extend(reversed([(c, scope) for c in element if local(c) is not None]))
    for key, lane_name in lanes.items():
        element = elements.get(key)
        if element is not None:
            element.facets["lane"] = lane_name
    return elements


def _read(element, kind: str) -> _Element:
    facets: dict[str, object] = {"attributes": {}, "properties": {}, "extensions": {},
                                 "events": [], "other": []}
    for attr, value in element.attrib.items():
        if attr not in ("id", "name"):
            facets["attributes"][etree.QName(attr).localname if attr.startswith("{") else attr] = value
    documentation = []
    for child in element:
        child_kind = local(child)
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        if child_kind is None:
            facets["other"].append(_canonical(child))
        elif child_kind in _IGNORED or (child_kind in TRACKED and child.get("id")):
            continue
        elif child_kind == "documentation":
            documentation.append((child.text or "").strip())
        elif child_kind == "text" and kind == "textAnnotation":
            facets["text"] = (child.text or "").strip()
        elif child_kind == "extensionElements":
            _read_extensions(child, facets)
        elif child_kind == "conditionExpression":
            facets["condition"] = folded("".join(child.itertext()))
        elif child_kind.endswith("EventDefinition") or child_kind == "eventDefinitionRef":
            facets["events"].append(_event_definition(child, child_kind))
        elif child_kind in _LOOPS:
            facets["loop"] = _canonical(child)
        elif kind in SUBPROCESSES | {"process"} and child_kind in _CONTAINERS:
            continue  # their tracked elements are compared one by one
        else:
            facets["other"].append(_canonical(child))
    if documentation:
        facets["documentation"] = "\n".join(documentation)
    facets["events"].sort(key=repr)
    facets["other"].sort(key=repr)
    return _Element(kind, element.get("name"), facets)


def _read_extensions(extension_elements, facets: dict) -> None:
    for child in extension_elements:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if child.tag == f"{_S}properties":
            for prop in child:
                if prop.tag == f"{_S}property" and prop.get("name") is not None:
                    facets["properties"][prop.get("name")] = prop.get("value")
        elif child.tag == f"{_S}serviceTaskOperator":
            facets["handler"] = child.get("id")
            facets["result_variable"] = child.get("resultVariable")
            rest = [_canonical(c) for c in child if isinstance(c.tag, str)]
            facets["parameters"] = sorted(rest, key=repr)
        else:
            facets["extensions"].setdefault(qname.localname, []).append(_canonical(child))


def _event_definition(element, kind: str) -> tuple:
    name = kind.removesuffix("EventDefinition")
    if name == "timer":
        for child in element:
            timer_kind = local(child)
            if timer_kind in _TIMER_KINDS:
                return (name, _TIMER_KINDS[timer_kind], folded("".join(child.itertext())))
        return (name, "", "")
    return (name, _canonical(element, skip_id=True))


def _canonical(element, *, skip_id: bool = False) -> tuple:
    """An order-independent, whitespace-normalised picture of an element and its content."""
    attributes = tuple(sorted((k, v) for k, v in element.attrib.items() if not (skip_id and k == "id")))
    children = sorted((_canonical(c) for c in element if isinstance(c.tag, str)), key=repr)
    return (element.tag, attributes, folded(element.text), tuple(children))


# ------------------------------------------------------------------------------------------
# Describing a change


def _q(value: object) -> str:
    return f"«{value}»" if value not in (None, "") else _NONE


def _plain(value: object) -> str:
    return str(value) if value not in (None, "") else _NONE


def _label(model: dict, scope: str, element_id: str | None) -> str:
    element = model.get((scope, element_id)) if element_id else None
    if element is not None and folded(element.name):
        return f"«{folded(element.name)}»"
    return element_id or _NONE


def _route(element: _Element, scope: str, model: dict, template: str) -> list[str]:
    if element.kind not in ("sequenceFlow", "messageFlow", "association"):
        return []
    attributes = element.facets["attributes"]
    return [template.format(_label(model, scope, attributes.get("sourceRef")),
                            _label(model, scope, attributes.get("targetRef")))]


def _details(old: _Element, new: _Element, scope: str, after: dict) -> list[str]:
    a, b = old.facets, new.facets
    details = []
    if old.kind != new.kind:
        details.append(f"Type: {old.kind} → {new.kind}")
    if folded(old.name) != folded(new.name):
        details.append(f"Navn: {_q(old.name)} → {_q(new.name)}")
    if a.get("documentation") != b.get("documentation"):
        details.append(_presence("Dokumentasjon", a.get("documentation"), b.get("documentation")))
    if a.get("text") != b.get("text"):
        details.append(_presence("Teksten", a.get("text"), b.get("text")))
    attributes_a, attributes_b = dict(a["attributes"]), dict(b["attributes"])
    routed = [attributes_a.get(k) != attributes_b.get(k) for k in ("sourceRef", "targetRef")]
    if any(routed):
        details.append(f"Flyten går nå fra {_label(after, scope, attributes_b.get('sourceRef'))} "
                       f"til {_label(after, scope, attributes_b.get('targetRef'))}")
    for attributes in (attributes_a, attributes_b):
        attributes.pop("sourceRef", None)
        attributes.pop("targetRef", None)
    for attr in sorted(attributes_a.keys() | attributes_b.keys()):
        if attributes_a.get(attr) != attributes_b.get(attr):
            label = ATTRIBUTE_LABELS.get(attr, attr)
            details.append(f"{label}: {_plain(attributes_a.get(attr))} → {_plain(attributes_b.get(attr))}")
    if a.get("lane") != b.get("lane"):
        details.append(f"Bane: {_q(a.get('lane'))} → {_q(b.get('lane'))}")
    props_a, props_b = a["properties"], b["properties"]
    order = len(_PROPERTY_ORDER)
    for prop in sorted(props_a.keys() | props_b.keys(), key=lambda p: (_PROPERTY_ORDER.get(p, order), p)):
        if props_a.get(prop) != props_b.get(prop):
            label = PROPERTY_LABELS.get(prop, prop)
            details.append(f"{label}: {_plain(props_a.get(prop))} → {_plain(props_b.get(prop))}")
    if a.get("handler") != b.get("handler"):
        details.append(f"Tjeneste (handler): {_plain(a.get('handler'))} → {_plain(b.get('handler'))}")
    if a.get("result_variable") != b.get("result_variable"):
        details.append(f"Resultatvariabel (resultVariable): {_plain(a.get('result_variable'))} → "
                       f"{_plain(b.get('result_variable'))}")
    if a.get("parameters", []) != b.get("parameters", []):
        details.append("Parametere endret")
    if a.get("condition") != b.get("condition"):
        details.append(_presence("Betingelse", a.get("condition"), b.get("condition")))
    details.extend(_event_details(a["events"], b["events"]))
    if a.get("loop") != b.get("loop"):
        details.append(_presence("Gjentakelse", a.get("loop"), b.get("loop")))
    for name in sorted(a["extensions"].keys() | b["extensions"].keys()):
        if a["extensions"].get(name) != b["extensions"].get(name):
            details.append(f"Utvidelsen {name} er endret")
    if a["other"] != b["other"]:
        details.append("Andre innstillinger endret")
    return details


def _presence(what: str, old: object, new: object) -> str:
    if not old:
        return f"{what} lagt til"
    if not new:
        return f"{what} fjernet"
    return f"{what} endret"


def _event_details(old: list[tuple], new: list[tuple]) -> list[str]:
    if old == new:
        return []
    timers_a = [d for d in old if d[0] == "timer"]
    timers_b = [d for d in new if d[0] == "timer"]
    others_a = [d for d in old if d[0] != "timer"]
    others_b = [d for d in new if d[0] != "timer"]
    details = []
    if timers_a != timers_b:
        if timers_a and timers_b and len(timers_a) == len(timers_b) == 1:
            details.append(f"Tidtaker: {_timer(timers_a[0])} → {_timer(timers_b[0])}")
        else:
            details.append(_presence("Tidtaker", timers_a, timers_b))
    if others_a != others_b:
        kinds_a = [d[0] for d in others_a]
        kinds_b = [d[0] for d in others_b]
        if kinds_a != kinds_b:
            details.append(f"Hendelsestype: {', '.join(kinds_a) or _NONE} → {', '.join(kinds_b) or _NONE}")
        else:
            details.append("Hendelsesdefinisjon endret")
    return details


def _timer(definition: tuple) -> str:
    _, kind, value = definition
    return f"{kind} {value}".strip() or _NONE


# ------------------------------------------------------------------------------------------
# Forms


def _form_details(old: object, new: object) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ["Skjemaet er endret"]
    details = []
    props_a = old.get("properties") if isinstance(old.get("properties"), dict) else {}
    props_b = new.get("properties") if isinstance(new.get("properties"), dict) else {}
    details += [f"Felt lagt til: {name}" for name in sorted(props_b.keys() - props_a.keys())]
    details += [f"Felt fjernet: {name}" for name in sorted(props_a.keys() - props_b.keys())]
    details += [f"Felt endret: {name}" for name in sorted(props_a.keys() & props_b.keys())
                if props_a[name] != props_b[name]]
    if old.get("properties") != new.get("properties") and not details:
        details.append("Feltene er endret")  # e.g. "properties" was no object before
    if old.get("required") != new.get("required"):
        details.append("Påkrevde felt endret")
    if old.get("title") != new.get("title"):
        details.append(f"Tittel: {_q(old.get('title'))} → {_q(new.get('title'))}")
    rest = (old.keys() | new.keys()) - {"properties", "required", "title"}
    if any(old.get(key) != new.get(key) for key in rest):
        details.append("Skjemaet er endret")
    return details
