"""Reading and changing a draft diagram's user tasks in its XML: which form each shows and the
guideline text beside it. The diagram is parsed with the engine's hardened parser (entities off)."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from webapp.engine.parsing import BPMN_NS, FORM_PROPERTY, SPIFF_NS, DiagramError, parse_xml


@dataclass(frozen=True)
class UserTask:
    element_id: str
    name: str
    form: str | None
    documentation: str


def parse(xml: str) -> etree._ElementTree:
    """The diagram's tree; a ``WorkbenchError`` in plain words when it cannot be read."""
    from webapp.workbench.operations import WorkbenchError
    try:
        return parse_xml(xml.encode("utf-8"), "diagram")
    except DiagramError as exc:
        raise WorkbenchError("Diagrammet kan ikke leses: " + "; ".join(p.message for p in exc.problems[:3])) from None


def _describe(element) -> UserTask:
    doc = element.find(f"{{{BPMN_NS}}}documentation")
    form = None
    for prop in element.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"):
        if prop.get("name") == FORM_PROPERTY:
            form = prop.get("value")
    return UserTask(element.get("id"), element.get("name") or "", form, (doc.text or "") if doc is not None else "")


def user_tasks(xml: str) -> list[UserTask]:
    try:
        tree = parse(xml)
    except Exception:  # noqa: BLE001 - an unreadable draft simply lists no tasks; the editor says why
        return []
    return [_describe(e) for e in tree.getroot().iter(f"{{{BPMN_NS}}}userTask") if e.get("id")]


def user_task(xml: str, element_id: str) -> UserTask | None:
    return next((t for t in user_tasks(xml) if t.element_id == element_id), None)


def set_task(xml: str, element_id: str, *, form: str, documentation: str) -> str:
    """The diagram with the user task's form property and documentation set."""
    from webapp.workbench.operations import WorkbenchError
    tree = parse(xml)
    element = next((e for e in tree.getroot().iter(f"{{{BPMN_NS}}}userTask") if e.get("id") == element_id), None)
    if element is None:
        raise WorkbenchError(f"Oppgaven «{element_id}» finnes ikke lenger i utkastet.")
    docs = element.findall(f"{{{BPMN_NS}}}documentation")
    for doc in docs[1:]:
        element.remove(doc)
    if documentation.strip():
        doc = docs[0] if docs else etree.Element(f"{{{BPMN_NS}}}documentation")
        doc.text = documentation.strip()
        if not docs:
            element.insert(0, doc)
    elif docs:
        element.remove(docs[0])
    extensions = element.find(f"{{{BPMN_NS}}}extensionElements")
    if extensions is None:
        extensions = etree.SubElement(element, f"{{{BPMN_NS}}}extensionElements")
        doc = element.find(f"{{{BPMN_NS}}}documentation")  # documentation comes first in BPMN's order
        element.remove(extensions)
        element.insert(1 if doc is not None else 0, extensions)
    properties = extensions.find(f"{{{SPIFF_NS}}}properties")
    if properties is None:
        properties = etree.SubElement(extensions, f"{{{SPIFF_NS}}}properties", nsmap={"spiffworkflow": SPIFF_NS})
    prop = next((p for p in properties.iterfind(f"{{{SPIFF_NS}}}property") if p.get("name") == FORM_PROPERTY), None)
    if prop is None:
        prop = etree.SubElement(properties, f"{{{SPIFF_NS}}}property")
        prop.set("name", FORM_PROPERTY)
    prop.set("value", form)
    return etree.tostring(tree, encoding="unicode", xml_declaration=False)
