"""Lint rules for one BPMN document, in the spirit of bpmnlint's recommended set.

Findings are for process owners editing a diagram: each names the element (its name when it has
one, else its id) and says in plain Norwegian what to change. Errors make a diagram unfit to
publish; warnings point at a diagram that runs but reads badly.

What is checked: every process the engine would run (``isExecutable`` not ``"false"``, with at
least one flow element; black-box and documentation pools are left out), and inside it every
sub-process, whose flows are checked within the sub-process. Incoming and outgoing flows are
counted from the sequence flows' ``sourceRef``/``targetRef`` (bpmn-js' ``incoming``/``outgoing``
children are redundant and ignored).

The document is walked once; each rule then works on per-container dictionaries, so linting is
linear in the size of the document.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Collection

from lxml import etree

from webapp.engine.parsing import parse_xml
from webapp.workbench.bpmnxml import folded, local


TASKS = frozenset({"task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask",
                   "receiveTask", "businessRuleTask"})
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
ACTIVITIES = TASKS | SUBPROCESSES | {"callActivity"}
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                    "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
                      "complexGateway"})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
#: Gateways whose outgoing flows choose by condition (and so need conditions and a question).
CHOOSING_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "complexGateway"})

#: Rule ids in the order findings on one element are listed.
RULES = ("executable-process-required", "start-event-required", "end-event-required",
         "no-disconnected", "no-implicit-start", "no-implicit-end", "conditional-flows",
         "no-duplicate-sequence-flows", "lane-role", "label-required", "fake-join",
         "superfluous-gateway", "no-gateway-join-fork")
_RULE_ORDER = {rule: n for n, rule in enumerate(RULES)}

_NOUNS = {
    **{kind: "oppgaven" for kind in TASKS},
    "callActivity": "kallaktiviteten", "subProcess": "delprosessen", "adHocSubProcess": "delprosessen",
    "transaction": "transaksjonen",
    "startEvent": "starthendelsen", "endEvent": "slutthendelsen",
    "intermediateCatchEvent": "hendelsen", "intermediateThrowEvent": "hendelsen",
    "boundaryEvent": "hendelsen",
    **{kind: "gatewayen" for kind in GATEWAYS},
    "process": "prosessen", "sequenceFlow": "flyten", "lane": "banen",
}


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    rule: str  # rule id, e.g. "no-implicit-start"
    element_id: str | None
    message: str  # Norwegian bokmål: what is wrong and what to change


@dataclass
class _Node:
    element: etree._Element
    kind: str
    id: str
    position: int
    definitions: frozenset[str] = frozenset()  # event definition kinds: "timer", "link", ...


@dataclass
class _Container:
    """A process or sub-process: its direct flow nodes and sequence flows."""

    element: etree._Element
    kind: str
    id: str
    position: int
    nodes: list[_Node] = field(default_factory=list)
    flows: list[_Node] = field(default_factory=list)
    lanes: list[_Node] = field(default_factory=list)
    ad_hoc: bool = False


def _label(element, element_id: str) -> str:
    name = folded(element.get("name"))
    return f"«{name}»" if name else (element_id or "uten navn")


def _the(kind: str, element, element_id: str, *, capital: bool = False) -> str:
    noun = _NOUNS.get(kind, "elementet")
    if capital:
        noun = noun[:1].upper() + noun[1:]
    return f"{noun} {_label(element, element_id)}"


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " eller " + words[-1]


def lint(xml: str | bytes, *, roles: Collection[str], filename: str = "diagram.bpmn") -> list[Finding]:
    """Lint one BPMN document. ``roles`` are the lane names the application knows (case and unit
    roles). Broken XML raises ``webapp.engine.parsing.DiagramError``."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = parse_xml(data, filename).getroot()
    return _Linter(frozenset(roles)).run(root)


class _Linter:
    def __init__(self, roles: frozenset[str]):
        self.roles = roles
        self.found: list[tuple[int, int, Finding]] = []

    def add(self, position: int, severity: str, rule: str, element_id: str | None, message: str) -> None:
        self.found.append((position, _RULE_ORDER[rule], Finding(severity, rule, element_id or None, message)))

    def run(self, root) -> list[Finding]:
        processes = [child for child in root if local(child) == "process"]
        containers = self.collect([p for p in processes if p.get("isExecutable", "true") != "false"])
        if not any(c.kind == "process" for c in containers):
            self.add(-1, "error", "executable-process-required", None, self.no_process_message(processes))
        for container in containers:
            self.check(container)
        self.found.sort(key=lambda item: (item[0], item[1]))
        return [finding for _, _, finding in self.found]

    @staticmethod
    def no_process_message(processes) -> str:
        if any(p.get("isExecutable") == "false" and _has_flow_nodes(p) for p in processes):
            return ("Prosessen er merket som ikke kjørbar (isExecutable=\"false\"): merk den som kjørbar, "
                    "ellers kan den ikke publiseres.")
        return ("Diagrammet har ingen prosess ennå: tegn prosessen, fra en starthendelse til en "
                "slutthendelse.")

    # ---------------------------------------------------------------------------------------
    # One walk over the processes

    def collect(self, processes) -> list[_Container]:
        """Index the processes (and their sub-processes) once: nodes, flows and leaf lanes per
        container. Empty processes (black-box pools) are left out."""
        containers: list[_Container] = []
        position = 0
        stack = [p for p in reversed(processes) if _has_flow_nodes(p)]
        while stack:
            element = stack.pop()
            kind = local(element)
            position += 1
            container = _Container(element, kind, element.get("id") or "", position,
                                   ad_hoc=kind == "adHocSubProcess")
            containers.append(container)
            nested = []
            for child in element:
                child_kind = local(child)
                if child_kind is None:
                    continue
                position += 1
                if child_kind == "sequenceFlow":
                    container.flows.append(_Node(child, child_kind, child.get("id") or "", position))
                elif child_kind in FLOW_NODES:
                    node = _Node(child, child_kind, child.get("id") or "", position,
                                 _event_definitions(child) if child_kind in EVENTS else frozenset())
                    container.nodes.append(node)
                    if child_kind in SUBPROCESSES:
                        nested.append(child)
                elif child_kind == "laneSet":
                    position = self.collect_lanes(child, container, position)
            stack.extend(reversed(nested))
        return containers

    @staticmethod
    def collect_lanes(lane_set, container: _Container, position: int) -> int:
        stack = [lane_set]
        while stack:
            current = stack.pop()
            for lane in current:
                if local(lane) != "lane":
                    continue
                position += 1
                children = [c for c in lane if local(c) == "childLaneSet"]
                if any(local(c) == "lane" for child_set in children for c in child_set):
                    stack.extend(reversed(children))  # only leaf lanes name a role
                else:
                    container.lanes.append(_Node(lane, "lane", lane.get("id") or "", position))
        return position

    # ---------------------------------------------------------------------------------------
    # The rules, per container

    def check(self, c: _Container) -> None:
        incoming: dict[str, int] = defaultdict(int)
        outgoing: dict[str, list[_Node]] = defaultdict(list)
        for flow in c.flows:
            incoming[flow.element.get("targetRef") or ""] += 1
            outgoing[flow.element.get("sourceRef") or ""].append(flow)
        nodes = {node.id: node for node in c.nodes}
        self.check_start_end(c)
        for node in c.nodes:
            self.check_connections(c, node, incoming[node.id], len(outgoing[node.id]))
            self.check_node(node, incoming[node.id], outgoing[node.id])
        self.check_flows(c, nodes)
        for lane in c.lanes:
            self.check_lane(lane)

    def check_start_end(self, c: _Container) -> None:
        if c.ad_hoc:
            return
        starts = ends = 0
        for node in c.nodes:
            starts += node.kind == "startEvent"
            ends += node.kind == "endEvent"
        what = "prosessen" if c.kind == "process" else "delprosessen"
        if not starts:
            self.add(c.position, "error", "start-event-required", c.id or None,
                     f"{_the(c.kind, c.element, c.id, capital=True)} har ingen starthendelse: "
                     f"legg til en starthendelse der {what} begynner.")
        if not ends:
            self.add(c.position, "error", "end-event-required", c.id or None,
                     f"{_the(c.kind, c.element, c.id, capital=True)} har ingen slutthendelse: "
                     f"legg til en slutthendelse der {what} er ferdig.")

    def check_connections(self, c: _Container, node: _Node, n_in: int, n_out: int) -> None:
        if c.ad_hoc or node.element.get("triggeredByEvent") == "true" \
                or node.element.get("isForCompensation") == "true":
            return  # activities of an ad-hoc sub-process, event sub-processes, compensation
        compensation = node.kind == "boundaryEvent" and "compensate" in node.definitions
        the = _the(node.kind, node.element, node.id, capital=True)
        if not n_in and not n_out and node.kind != "boundaryEvent":
            self.add(node.position, "error", "no-disconnected", node.id,
                     f"{the} er ikke koblet til noe: koble den inn i flyten, eller fjern den.")
            return
        may_start = node.kind in ("startEvent", "boundaryEvent") or (
            node.kind == "intermediateCatchEvent" and "link" in node.definitions)
        if not n_in and not may_start:
            self.add(node.position, "error", "no-implicit-start", node.id,
                     f"{the} har ingen innkommende flyt: koble en flyt inn til den, "
                     "eller fjern den.")
        may_end = node.kind == "endEvent" or compensation or (
            node.kind == "intermediateThrowEvent" and "link" in node.definitions)
        if not n_out and not may_end:
            self.add(node.position, "error", "no-implicit-end", node.id,
                     f"{the} har ingen utgående flyt: koble den videre eller til en slutthendelse.")

    def check_node(self, node: _Node, n_in: int, out: list[_Node]) -> None:
        element, kind = node.element, node.kind
        named = bool(folded(element.get("name")))
        if not named:
            needs_name = (kind in ACTIVITIES
                          or kind in ("intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
                          or (kind in ("startEvent", "endEvent") and node.definitions)
                          or (kind in CHOOSING_GATEWAYS and len(out) > 1))
            if needs_name:
                if kind in GATEWAYS:
                    advice = "skriv spørsmålet den avgjør, for eksempel «Er innkallingen sendt i tide?»"
                elif kind in EVENTS:
                    advice = "skriv hva som skjer, for eksempel «Fristen er ute»"
                else:
                    advice = "skriv hva som gjøres, for eksempel «Planlegg møtet»"
                self.add(node.position, "warning", "label-required", node.id,
                         f"{_the(kind, element, node.id, capital=True)} har ikke noe navn: {advice}.")
        if kind in ACTIVITIES and n_in > 1 and element.get("triggeredByEvent") != "true":
            self.add(node.position, "warning", "fake-join", node.id,
                     f"{_the(kind, element, node.id, capital=True)} har {n_in} innkommende flyter: "
                     "samle dem i en gateway foran den, så det er tydelig hvordan flytene møtes.")
        if kind in GATEWAYS:
            the = _the(kind, element, node.id, capital=True)
            if n_in == 1 and len(out) == 1:
                self.add(node.position, "warning", "superfluous-gateway", node.id,
                         f"{the} har bare én innkommende og én utgående flyt: fjern den og koble "
                         "flyten direkte.")
            elif n_in > 1 and len(out) > 1:
                self.add(node.position, "warning", "no-gateway-join-fork", node.id,
                         f"{the} både samler og deler flyten: bruk to gatewayer, én som samler "
                         "flytene og én som deler dem.")
            if kind in ("exclusiveGateway", "inclusiveGateway") and len(out) > 1:
                default = element.get("default")
                for flow in out:
                    if flow.id != default and _condition(flow.element) is None:
                        self.add(flow.position, "error", "conditional-flows", flow.id,
                                 f"{_the('sequenceFlow', flow.element, flow.id, capital=True)} fra "
                                 f"{_the(kind, element, node.id)} har ingen betingelse: skriv en "
                                 "betingelse, eller gjør den til gatewayens standardflyt.")

    def check_flows(self, c: _Container, nodes: dict[str, _Node]) -> None:
        seen: dict[tuple[str, str, str | None], _Node] = {}
        for flow in c.flows:
            source, target = flow.element.get("sourceRef") or "", flow.element.get("targetRef") or ""
            key = (source, target, _condition(flow.element))
            first = seen.setdefault(key, flow)
            if first is flow:
                continue
            self.add(flow.position, "error", "no-duplicate-sequence-flows", flow.id,
                     f"{_the('sequenceFlow', flow.element, flow.id, capital=True)} går samme vei som "
                     f"{_the('sequenceFlow', first.element, first.id)}, fra {self.node_label(nodes, source)} "
                     f"til {self.node_label(nodes, target)}: fjern den ene.")

    @staticmethod
    def node_label(nodes: dict[str, _Node], node_id: str) -> str:
        node = nodes.get(node_id)
        return _label(node.element, node_id) if node is not None else node_id

    def check_lane(self, lane: _Node) -> None:
        name = lane.element.get("name")
        if name is not None and name in self.roles:
            return
        if self.roles:
            advice = f"gi den navnet til en av rollene {_either(sorted(self.roles))}"
        else:
            advice = "ingen roller er satt opp ennå; be en administrator om å legge dem inn"
        if folded(name):
            problem = f"Banen {_label(lane.element, lane.id)} er ikke en kjent rolle"
        else:
            problem = f"Banen {lane.id} har ikke noe navn"
        self.add(lane.position, "error", "lane-role", lane.id or None, f"{problem}: {advice}.")


def _has_flow_nodes(process) -> bool:
    return any(local(child) in FLOW_NODES for child in process)


def _event_definitions(event) -> frozenset[str]:
    kinds = set()
    for child in event:
        kind = local(child)
        if kind and kind.endswith("EventDefinition"):
            kinds.add(kind[: -len("EventDefinition")])
        elif kind == "eventDefinitionRef":
            kinds.add("ref")
    return frozenset(kinds)


def _condition(flow) -> str | None:
    """The flow's condition text, whitespace-normalised; None when it has none (or an empty one)."""
    for child in flow:
        if local(child) == "conditionExpression":
            text = folded("".join(child.itertext()))
            return text or None
    return None
