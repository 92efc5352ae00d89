"""The privacy boundary: what a viewer may see of a case, a step, a status change, an incident
and an outbox message (DESIGN §6).

Register data is who the group is for, the coordinator and the members, status, dates and the
state of steps. Content is everything the person or the group said or wrote. The coordinating
unit, the system owner and supervisors see register data only; whoever has ``Access.FULL`` to a
case sees its content. Every page that shows one of these things to a possibly register-only
viewer renders it through this module (the functions are also Jinja globals), so the rule is
decided here once:

- a step's title: the full title (name + the diagram's ``titleDetail``) for full access, else
  only the step's name from its diagram. Diagrams name register data only in ``titleDetail``, but
  running instances keep the definition version they started with, and an older version may
  still carry content in its detail — so register-only viewers never see a detail at all;
- a status change's reason: free text (it may quote what someone said) — full access only; the
  status and its date are register data;
- an incident: the step's name, the process and the time are register data; the message may
  carry what a handler raised (form data, addresses) and is never shown on a page — supervisors
  see a fixed text;
- an outbox attachment (minutes, agenda, letters): content — downloadable only with full access
  to its case, and every download writes an access-log row.
- a plan (individual plan or relay log): that it exists, its kind, its status and its dates
  (adopted, period from/to, next revision) are register data; its sections, goals, measures and
  versions (snapshots, archived PDFs, reasons) are content.

One deliberate exception, outside this module: a step *assigned* to a register-only user shows
what that step needs (webapp/tasks, the step's context panel). Today that is the coordinating
unit's appointing of a coordinator, which shows the registered wish — the request is addressed to
the coordinating unit, before any group or consent exists.
"""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp import library_texts
from webapp.cases.access import Access, case_access
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance
from webapp.services import db_session, services

#: Every text-like column (String, Text, JSON, binary) of the tables that hold case data, by kind.
#: CONTENT: what the person or the group said or wrote, and documents and state made from it —
#: never shown to a register-only viewer. REGISTER: who, the coordinator and members (names and
#: roles: the composition is what the coordinating unit registers and follows up, guideline 002's
#: consent statement 3), status, dates, kinds, places and the state of steps. A new column must be
#: put in one of the two (tests/webapp/test_privacy_boundary.py checks that every one is).
CONTENT_COLUMNS: dict[str, frozenset[str]] = {
    "cases": frozenset({"wish", "status_reason"}),
    "case_status_changes": frozenset({"reason"}),
    "case_members": frozenset({"mandate", "left_reason"}),
    "coordinator_appointments": frozenset({"persons_wish", "reason"}),
    "consents": frozenset({"refusal_reason", "withdrawal_reason", "end_reason"}),
    "case_closures": frozenset({"request_reason", "reason", "final_minutes", "report_pdf"}),
    "meetings": frozenset({"persons_needs", "agenda", "urgent_reason", "theme"}),
    "matters": frozenset({"title", "description", "kept_reason"}),
    "attendance": frozenset({"absence_reason"}),
    "minutes": frozenset({"content", "approval_note", "archived_pdf"}),
    "minutes_approvals": frozenset({"comment"}),
    # scope and how: a measure written into a plan, and how it is carried out
    "measures": frozenset({"description", "reason", "scope", "how"}),
    "evaluations": frozenset({"composition", "atmosphere", "efficiency", "challenges", "work", "persons_view",
                              "decision_reason"}),
    "deviations": frozenset({"title", "description", "follow_up", "escalation_reason", "system_owner_action"}),
    "transitions": frozenset({"description", "handover", "summary"}),
    "outbox_messages": frozenset({"body", "attachments"}),
    "process_instances": frozenset({"state", "status_reason"}),
    "scheduled_starts": frozenset({"data", "reason"}),
    "incidents": frozenset({"message", "pending"}),
    "audit_events": frozenset({"detail"}),
    "open_tasks": frozenset({"title"}),  # name + titleDetail: register-only viewers get the name
    # progress notes on a measure (in a meeting or a plan revision)
    "measure_notes": frozenset({"note"}),
    # what the person or a guardian wrote on their own pages: why they will not come, why they ask
    # for a meeting
    "meeting_replies": frozenset({"note"}),
    "meeting_requests": frozenset({"reason"}),
    # the plan itself: its sections, goals, versions (snapshots, PDFs and why they were made), the
    # reason a plan consent was refused, and why the relay log changed hands
    "plans": frozenset({"content", "consent_refusal_reason"}),
    "plan_goals": frozenset({"text"}),
    "plan_versions": frozenset({"reason", "snapshot", "archived_pdf"}),
    "relay_handovers": frozenset({"reason"}),
}
REGISTER_COLUMNS: dict[str, frozenset[str]] = {
    "cases": frozenset({"reference", "title", "status", "requested_by_kind", "requested_by_name", "individual_plan"}),
    "case_status_changes": frozenset({"from_status", "to_status"}),
    # national_id_digest: a keyed digest, matched at login, never shown (as persons.national_id)
    "case_members": frozenset({"name", "email", "phone", "role", "national_id_digest"}),
    "coordinator_appointments": frozenset({"kind"}),
    "consents": frozenset({"signed_by", "signed_how", "composition", "assurance_level"}),
    "case_closures": frozenset({"initiated_by", "requested_by_name", "status", "confirmed_with", "reported_to"}),
    "meetings": frozenset({"status", "place", "video_link"}),
    "matters": frozenset({"submitted_by_name", "excluded_kind"}),
    "attendance": frozenset(),
    "minutes": frozenset({"status", "approval_rule", "recipients"}),
    "minutes_approvals": frozenset(),
    "measures": frozenset({"status"}),
    "evaluations": frozenset({"kind", "status", "decision"}),
    "deviations": frozenset({"reported_by_name", "status"}),
    "transitions": frozenset({"kind", "source", "status"}),
    # last_error: the delivery state, our sending code's words and the mail server's reply
    "outbox_messages": frozenset({"channel", "recipient", "subject", "status", "last_error"}),
    "process_instances": frozenset({"status"}),
    "scheduled_starts": frozenset({"process_id", "key", "status"}),
    "incidents": frozenset({"status", "task_spec"}),
    "audit_events": frozenset({"kind"}),
    "open_tasks": frozenset({"task_id", "task_spec", "lane", "form"}),
    "persons": frozenset({"full_name", "national_id", "national_id_digest", "phone", "email", "address"}),
    # a migration's report: instance and case numbers, versions, and why a step blocks the move
    "migration_runs": frozenset({"process_id", "results"}),
    # that a plan exists, of which kind, its status and who signed its consent how (as for the
    # group's consent); with its dates (adopted_at, revision_due_on, period_from, period_to) this is
    # all a register-only viewer may see of a plan — never its content, goals, measures or versions
    "plans": frozenset({"kind", "status", "consent_signed_by", "consent_how", "participant_ids"}),
    # kinds and states only (long/short term, active/achieved/dropped): the goal's text is content
    "plan_goals": frozenset({"term", "status"}),
    # which kind of change made a version and who made it (as an audit event's kind and actor)
    "plan_versions": frozenset({"source", "made_by_name"}),
    "relay_handovers": frozenset(),
    "measure_notes": frozenset({"status", "by_name"}),
    "meeting_replies": frozenset(),
    "meeting_requests": frozenset(),
}

#: what the engine puts between a step's name and its ``titleDetail``
TITLE_SEPARATOR = " – "


def _cache() -> dict:
    cache = g.get("_register_data")
    if cache is None:
        cache = g._register_data = {"access": {}, "names": {}, "definitions": {}}
    return cache


def prime(session: Session, access: dict[int, Access], tasks=()) -> None:
    """Tell this request what a list page read already: the viewer's access per case id (from
    the page's query) and the definitions of the listed steps' instances (one query for all),
    so rendering the list asks nothing per row."""
    _cache()["access"].update(access)
    instance_ids = {task.instance_id for task in tasks} - _cache()["definitions"].keys()
    if instance_ids:
        _cache()["definitions"].update(session.execute(
            select(ProcessInstance.id, ProcessDefinition)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.id.in_(instance_ids))).all())


def viewer_access(case_id: int | None) -> Access:
    """The current user's access to a case (cached for the request)."""
    if case_id is None or g.get("user") is None:
        return Access.NONE
    known = _cache()["access"]
    if case_id not in known:
        known[case_id] = case_access(db_session(), g.user, case_id)
    return known[case_id]


def sees_content(case_id: int | None) -> bool:
    return viewer_access(case_id) == Access.FULL


def step_name(session: Session, definition: ProcessDefinition, spec_id: str | None) -> str | None:
    """The name an element has in its diagram (register data), or None if it has none there."""
    if not spec_id:
        return None
    key = (definition.id, spec_id)
    names = _cache()["names"]
    if key not in names:
        name = None
        try:
            name = services().engine.step_name(definition, spec_id)
        except Exception:  # a definition that no longer parses: no name rather than a 500
            name = None
        names[key] = name
    return names[key]


def register_task_title(session: Session, task: OpenTask) -> str:
    """A step's title as register data: its name in the diagram, never the detail."""
    definition = _cache()["definitions"].get(task.instance_id)
    if definition is None:
        instance = session.get(ProcessInstance, task.instance_id)
        definition = instance.definition if instance is not None else None
    name = step_name(session, definition, task.task_spec) if definition is not None else None
    if name:
        return library_texts.translate(name)
    # no name in the diagram: the engine used the element's id, then appended any detail
    return task.title.split(TITLE_SEPARATOR, 1)[0] if task.title != task.task_spec else task.task_spec


def task_title(task: OpenTask) -> str:
    """The title the current user may see of an open step."""
    if sees_content(task.case_id):
        return library_texts.title(task.title)
    return register_task_title(db_session(), task)


def status_reason(case_id: int, reason: str | None) -> str | None:
    """The free-text reason of a status (change), for viewers who may read content only."""
    return reason if reason and sees_content(case_id) else None


def incident_step(incident: Incident, instance: ProcessInstance) -> str:
    """The failed element as register data: its name in the diagram (or its id)."""
    if not incident.task_spec:
        return "–"
    return step_name(db_session(), instance.definition, incident.task_spec) or incident.task_spec


def incident_text(incident: Incident) -> str:
    """What a supervisor sees of an incident's message: a fixed text. The stored message may
    carry what a handler raised (form content, addresses) and stays out of every page."""
    return _("Steget feilet og ble rullet tilbake. Ingenting er lagret halvveis.")


def may_download_attachment(session: Session, user, case_id: int | None) -> bool:
    """Outbox attachments are case content (minutes, agendas, letters): only someone with full
    access to the case may download them. A message without a case carries no case content."""
    if user is None:
        return False
    if case_id is None:
        return True
    return case_access(session, user, case_id) == Access.FULL


def outbox_attachment_allowed(message) -> bool:
    """Template helper: whether the current user may download the message's attachments."""
    if g.get("user") is None:
        return False
    return message.case_id is None or sees_content(message.case_id)


TEMPLATE_GLOBALS = {
    "task_title": task_title,
    "status_reason": status_reason,
    "incident_text": incident_text,
    "incident_step": incident_step,
    "outbox_attachment_allowed": outbox_attachment_allowed,
}


def register(app) -> None:
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
