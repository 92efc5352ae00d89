"""What supervisors (the coordinating unit, the system owner) may do about stuck cases: retry
incidents, reassign steps, hand a leaving person's steps over, cancel episodes and remind
coordinators. Each takes a list of ids (one or a selection), works on each item separately and
returns one ``Outcome`` per item with a Norwegian message; every change writes an audit event
``supervision_*`` with the actor and the reason.

Transactions: a reassignment, a hand-over, a cancellation and a reminder write the change and
its audit event in one transaction per item (one refused item never undoes another). A retry runs
the failed step in the engine's own transaction; its audit event (with the outcome) is written
right after, in a transaction of its own.

Register data only: messages name the case by reference, steps by their name in the diagram and
people by name; reminders carry no content (the reason stays in the audit event, never in mail).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.audit.operations import record, titled
from webapp.auth.models import User
from webapp.cases import register_data
from webapp.cases.models import ENDED_STATUSES, Case, CaseMember
from webapp.cases.operations import coordinator_user
from webapp.cases.roles import UNIT_ROLES, resolve_role, users_with_role
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance
from webapp.engine.runtime import Conflict, NotFound, StepFailed
from webapp.outbox.operations import Outbox, base_url
from webapp.services import Services
from webapp.templating import role_label

#: the longest reason accepted (the audit event keeps it whole)
REASON_MAX = 1000
#: the most items one request may act on (each item is a transaction; a retry runs a step)
MAX_SELECTION = 100

DONE, UNCHANGED, REFUSED, FAILED = "done", "unchanged", "refused", "failed"


class ActionRefused(Exception):
    """The whole request is refused (no reason, nothing selected, ...); nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Outcome:
    """What happened to one item: ``status`` is done, unchanged, refused or failed."""

    item_id: int
    status: str
    message: str
    case_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in (DONE, UNCHANGED)


@dataclass
class ActionResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    @property
    def done(self) -> int:
        return sum(1 for o in self.outcomes if o.status == DONE)

    @property
    def not_done(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


@dataclass(frozen=True)
class Eligible:
    """Someone a step may be given to: their name and the role that makes them eligible."""

    user_id: int
    name: str
    role: str  # the case role (lane) that makes the person eligible


@dataclass(frozen=True)
class IncidentKind:
    """Incidents of one kind: the same process (any version) failing in the same step."""

    process_id: str
    process_name: str
    task_spec: str | None
    step_name: str
    open_count: int


# ---------------------------------------------------------------------- checks

def check_reason(reason: str | None) -> str:
    """The reason, trimmed; refused when empty or longer than REASON_MAX."""
    text = (reason or "").strip()
    if not text:
        raise ActionRefused(_("Skriv en begrunnelse. Den lagres i loggen sammen med handlingen."))
    if len(text) > REASON_MAX:
        raise ActionRefused(_("Begrunnelsen kan være høyst %(n)s tegn.", n=REASON_MAX))
    return text


def check_selection(ids: list[int]) -> list[int]:
    """Distinct ids in the order given; refused when empty or too many."""
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise ActionRefused(_("Velg minst én rad i listen."))
    if len(unique) > MAX_SELECTION:
        raise ActionRefused(_("Velg høyst %(n)s rader om gangen.", n=MAX_SELECTION))
    return unique


# ---------------------------------------------------------------------- reading

def _step_label(s: Session, task: OpenTask) -> str:
    return register_data.register_task_title(s, task)


def incident_kind(s: Session, incident_id: int) -> IncidentKind | None:
    """The kind of an open incident and how many open incidents share it; None if not open."""
    row = s.execute(select(Incident, ProcessInstance).join(
        ProcessInstance, ProcessInstance.id == Incident.instance_id).where(Incident.id == incident_id)).first()
    if row is None or row[0].status != "open":
        return None
    incident, instance = row
    definition = instance.definition
    count = len(_kind_ids(s, definition.process_id, incident.task_spec, limit=None))
    step = register_data.step_name(s, definition, incident.task_spec) if incident.task_spec else None
    return IncidentKind(definition.process_id, definition.name, incident.task_spec,
                        step or incident.task_spec or "–", count)


def _kind_ids(s: Session, process_id: str, task_spec: str | None, *, limit: int | None) -> list[int]:
    query = (select(Incident.id).join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
             .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
             .where(Incident.status == "open", ProcessDefinition.process_id == process_id,
                    Incident.task_spec == task_spec if task_spec is not None else Incident.task_spec.is_(None))
             .order_by(Incident.created_at, Incident.id))
    if limit is not None:
        query = query.limit(limit)
    return list(s.scalars(query))


def eligible_people(s: Session, task: OpenTask) -> list[Eligible]:
    """Who a step may be given to: the active members of its case holding its lane; for a unit's
    lane (koordinerende_enhet, systemansvarlig) the active users with that system role, and
    whoever the engine resolves the lane to (without an appointing coordinating unit, the service
    that received the wish). When nobody holds the lane (an orphaned step, e.g. after the
    coordinator was deactivated), any active member of the case with a login, so the work can go
    on until the role is filled. A step without a lane can be given to nobody."""
    if not task.lane:
        return []
    ids = set(resolve_role(s, task.case_id, task.lane))
    if task.lane in UNIT_ROLES:
        ids |= {u.id for u in users_with_role(s, UNIT_ROLES[task.lane])}
    roles = {}
    if ids:
        roles = {user_id: task.lane for user_id in ids}
    else:
        for user_id, role in s.execute(select(CaseMember.user_id, CaseMember.role).where(
                CaseMember.case_id == task.case_id, CaseMember.active.is_(True), CaseMember.user_id.is_not(None))
                .order_by(CaseMember.id)):
            roles.setdefault(user_id, role)
    if not roles:
        return []
    users = s.scalars(select(User).where(User.id.in_(roles), User.active.is_(True))
                      .order_by(User.full_name, User.id))
    return [Eligible(u.id, u.full_name, roles[u.id]) for u in users]


def handover_candidates(s: Session) -> tuple[list[tuple[User, int]], list[User]]:
    """People with steps assigned to them (with how many), and the active staff who may take over."""
    counts = dict(s.execute(select(OpenTask.assignee_id, func.count()).where(OpenTask.assignee_id.is_not(None))
                            .group_by(OpenTask.assignee_id)).all())
    holders = s.scalars(select(User).where(User.id.in_(counts or {-1})).order_by(User.full_name, User.id)).all()
    staff = [u for u in s.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name, User.id))
             if u.has_role("staff")]
    return [(u, counts[u.id]) for u in holders], staff


# ---------------------------------------------------------------------- retry

def retry_incidents(svc: Services, incident_ids: list[int], *, reason: str, actor_id: int) -> ActionResult:
    """Run each incident's failed step again (the engine's own transaction), then record
    ``supervision_retry`` with the outcome."""
    reason, result = check_reason(reason), ActionResult()
    for incident_id in check_selection(incident_ids):
        result.add(_retry_one(svc, incident_id, reason, actor_id))
    return result


def retry_kind(svc: Services, incident_id: int, *, reason: str, actor_id: int) -> ActionResult:
    """Retry every open incident of the same kind as ``incident_id`` (same process, same step),
    oldest first, at most MAX_SELECTION in one go."""
    reason = check_reason(reason)
    with svc.db.session() as s:
        row = s.execute(select(Incident.status, Incident.task_spec, ProcessDefinition.process_id)
                        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
                        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                        .where(Incident.id == incident_id)).first()
        if row is None:
            raise ActionRefused(_("Hendelsen finnes ikke."))
        if row.status != "open":
            raise ActionRefused(_("Hendelsen er allerede løst."))
        ids = _kind_ids(s, row.process_id, row.task_spec, limit=MAX_SELECTION)
    return retry_incidents(svc, ids, reason=reason, actor_id=actor_id)


def _retry_one(svc: Services, incident_id: int, reason: str, actor_id: int) -> Outcome:
    with svc.db.session() as s:
        row = s.execute(select(Incident.status, ProcessInstance.id, Case.id, Case.reference)
                        .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
                        .join(Case, Case.id == ProcessInstance.case_id).where(Incident.id == incident_id)).first()
    if row is None:
        return Outcome(incident_id, REFUSED, _("Hendelse %(id)s finnes ikke.", id=incident_id))
    _status, instance_id, case_id, reference = row
    try:
        svc.engine.retry(incident_id, actor_id=actor_id)
        status, message = DONE, _("Sak %(ref)s: steget ble kjørt på nytt og gikk gjennom.", ref=reference)
    except NotFound:
        return Outcome(incident_id, REFUSED, _("Hendelse %(id)s finnes ikke.", id=incident_id), case_id)
    except Conflict:
        return Outcome(incident_id, UNCHANGED, _("Sak %(ref)s: hendelsen var allerede løst.", ref=reference),
                       case_id)
    except StepFailed:
        status, message = FAILED, _("Sak %(ref)s: steget feilet igjen.", ref=reference)
    with svc.db.transaction() as s:
        record(s, "supervision_retry", at=svc.clock.now(), actor_id=actor_id, case_id=case_id,
               instance_id=instance_id, incident_id=incident_id, outcome=status, reason=reason,
               **titled("Tilsyn: steg kjørt på nytt"))
    return Outcome(incident_id, status, message, case_id)


# ---------------------------------------------------------------------- reassign and hand-over

def reassign_steps(svc: Services, open_task_ids: list[int], user_id: int, *, reason: str,
                   actor_id: int) -> ActionResult:
    """Give each step to ``user_id`` if that person may do it (``eligible_people``); steps they
    may not do are left as they are, with a message."""
    reason, result = check_reason(reason), ActionResult()
    for task_id in check_selection(open_task_ids):
        result.add(_assign_one(svc, task_id, user_id, reason, actor_id, kind="supervision_reassign"))
    return result


def hand_over_steps(svc: Services, from_user_id: int, to_user_id: int, *, reason: str,
                    actor_id: int) -> ActionResult:
    """Give every open step assigned to ``from_user_id`` to ``to_user_id``, each checked like a
    reassignment (``supervision_handover`` per step). Roles in the groups and the account are
    left alone: ending memberships changes a group's composition (the coordinator's, with the
    person's consent) and deactivating is the administrator's."""
    reason = check_reason(reason)
    if from_user_id == to_user_id:
        raise ActionRefused(_("Velg en annen person som overtar."))
    with svc.db.session() as s:
        leaving, taking = s.get(User, from_user_id), s.get(User, to_user_id)
        if leaving is None:
            raise ActionRefused(_("Velg personen som slutter fra listen."))
        if taking is None or not taking.active:
            raise ActionRefused(_("Velg en aktiv bruker som overtar."))
        ids = list(s.scalars(select(OpenTask.id).where(OpenTask.assignee_id == from_user_id)
                             .order_by(OpenTask.id).limit(MAX_SELECTION + 1)))
    if not ids:
        raise ActionRefused(_("%(name)s har ingen åpne steg.", name=leaving.full_name))
    result = ActionResult()
    for task_id in ids[:MAX_SELECTION]:
        result.add(_assign_one(svc, task_id, to_user_id, reason, actor_id, kind="supervision_handover",
                               only_from=from_user_id))
    if len(ids) > MAX_SELECTION:
        result.add(Outcome(0, REFUSED, _("Flere steg gjenstår: gjenta overleveringen.")))
    return result


def _assign_one(svc: Services, task_row_id: int, user_id: int, reason: str, actor_id: int, *,
                kind: str, only_from: int | None = None) -> Outcome:
    """One step to one person, with its audit event, in one transaction. The instance is locked
    first (as the engine's steps do), so a step being completed at the same time is either done
    before (then it is no longer open) or after (then it is done by the new assignee)."""
    try:
        with svc.db.transaction(serialised=True) as s:
            where = s.execute(select(OpenTask.case_id, OpenTask.instance_id).where(OpenTask.id == task_row_id)).first()
            if where is None:
                return Outcome(task_row_id, REFUSED, _("Steget er ikke lenger åpent."))
            case = s.get(Case, where.case_id)
            running = {i.id for i in svc.engine.lock_running(s, where.case_id)}
            task = s.scalar(select(OpenTask).where(OpenTask.id == task_row_id)
                            .execution_options(populate_existing=True))  # re-read under the lock
            if task is None or where.instance_id not in running:
                return Outcome(task_row_id, REFUSED, _("Steget er ikke lenger åpent."), case.id)
            if only_from is not None and task.assignee_id != only_from:
                return Outcome(task_row_id, UNCHANGED, _("Sak %(ref)s: steget er allerede gitt til en annen.",
                                                         ref=case.reference), case.id)
            step = _step_label(s, task)
            person = s.get(User, user_id)
            eligible = {e.user_id for e in eligible_people(s, task)}
            if person is None or person.id not in eligible:
                name = person.full_name if person is not None else _("Personen")
                if not task.lane:
                    message = _("Sak %(ref)s, «%(step)s»: steget har ingen rolle og kan ikke gis til noen. "
                                "Ingenting er endret.", ref=case.reference, step=step)
                else:
                    message = _("Sak %(ref)s, «%(step)s»: %(name)s har ikke rollen «%(role)s» i saken. "
                                "Ingenting er endret.", ref=case.reference, step=step, name=name,
                                role=role_label(task.lane))
                return Outcome(task_row_id, REFUSED, message, case.id)
            if task.assignee_id == person.id:
                return Outcome(task_row_id, UNCHANGED, _("Sak %(ref)s, «%(step)s»: steget var allerede gitt til "
                                                         "%(name)s.", ref=case.reference, step=step,
                                                         name=person.full_name), case.id)
            previous = task.assignee_id
            # the open-task projection is the engine's (DESIGN §3); the assignee is the one column
            # changed outside it, under the instance's lock (an engine ``assign`` would own it)
            task.assignee_id, task.orphaned = person.id, False
            s.flush()
            record(s, kind, at=svc.clock.now(), actor_id=actor_id, case_id=case.id, instance_id=task.instance_id,
                   task_id=task.task_id, task=task.task_spec, from_user_id=previous, to_user_id=person.id,
                   reason=reason, **titled("Tilsyn: steg gitt til %(name)s", name=person.full_name))
            return Outcome(task_row_id, DONE, _("Sak %(ref)s, «%(step)s»: gitt til %(name)s.", ref=case.reference,
                                                step=step, name=person.full_name), case.id)
    except StaleDataError:
        return Outcome(task_row_id, REFUSED, _("Steget er ikke lenger åpent."))
    except OperationalError as exc:
        if "locked" not in str(exc).lower():
            raise
        return Outcome(task_row_id, FAILED, _("Saken var opptatt. Prøv igjen."))


# ---------------------------------------------------------------------- cancel

def cancel_episodes(svc: Services, instance_ids: list[int], *, reason: str, actor_id: int) -> ActionResult:
    """Cancel each episode (its open steps and incidents go with it) and record
    ``supervision_cancel``, in one transaction per episode."""
    reason, result = check_reason(reason), ActionResult()
    for instance_id in check_selection(instance_ids):
        result.add(_cancel_one(svc, instance_id, reason, actor_id))
    return result


def _cancel_one(svc: Services, instance_id: int, reason: str, actor_id: int) -> Outcome:
    try:
        with svc.db.transaction(serialised=True) as s:
            row = s.execute(select(ProcessInstance.case_id, Case.reference)
                            .join(Case, Case.id == ProcessInstance.case_id)
                            .where(ProcessInstance.id == instance_id)).first()
            if row is None:
                return Outcome(instance_id, REFUSED, _("Episode %(id)s finnes ikke.", id=instance_id))
            case_id, reference = row
            instance = next((i for i in svc.engine.lock_running(s, case_id) if i.id == instance_id), None)
            if instance is None:
                return Outcome(instance_id, UNCHANGED, _("Sak %(ref)s: episoden var allerede avsluttet.",
                                                         ref=reference), case_id)
            svc.engine.cancel_in(s, instance, reason, actor_id=actor_id)
            record(s, "supervision_cancel", at=svc.clock.now(), actor_id=actor_id, case_id=case_id,
                   instance_id=instance_id, process=instance.definition.process_id, reason=reason,
                   **titled("Tilsyn: %(process)s avbrutt", process=instance.definition.name))
            return Outcome(instance_id, DONE, _("Sak %(ref)s: «%(name)s» er avbrutt.", ref=reference,
                                                name=instance.definition.name), case_id)
    except OperationalError as exc:
        if "locked" not in str(exc).lower():
            raise
        return Outcome(instance_id, FAILED, _("Saken var opptatt. Prøv igjen."))


# ---------------------------------------------------------------------- remind

def reminder_text(reference: str, case_id: int) -> tuple[str, str]:
    """Subject and body of a reminder: that something waits, the reference and a link; no content."""
    return (f"Påminnelse: ansvarsgruppe {reference}",
            f"Dette er en påminnelse: noe venter på deg i ansvarsgruppe {reference}:\n"
            f"{base_url()}/saker/{case_id}\n\n"
            "Logg inn for å se hva som venter. Av hensyn til personvernet sendes ikke innholdet på e-post.")


def remind_coordinators(svc: Services, case_ids: list[int], *, reason: str, actor_id: int) -> ActionResult:
    """Mail each case's coordinator a content-free reminder (outbox) and record
    ``supervision_reminder``, in one transaction per case. The reason is not in the mail."""
    reason, result = check_reason(reason), ActionResult()
    for case_id in check_selection(case_ids):
        result.add(_remind_one(svc, case_id, reason, actor_id))
    return result


def _remind_one(svc: Services, case_id: int, reason: str, actor_id: int) -> Outcome:
    with svc.db.transaction() as s:
        case = s.get(Case, case_id)
        if case is None:
            return Outcome(case_id, REFUSED, _("Sak %(id)s finnes ikke.", id=case_id))
        if case.status in ENDED_STATUSES:
            return Outcome(case_id, REFUSED, _("Sak %(ref)s er avsluttet.", ref=case.reference), case_id)
        coordinator = coordinator_user(s, case_id)
        if coordinator is None or not coordinator.active:
            return Outcome(case_id, REFUSED, _("Sak %(ref)s har ingen koordinator å minne på.",
                                               ref=case.reference), case_id)
        if not coordinator.email:
            return Outcome(case_id, REFUSED, _("Sak %(ref)s: koordinatoren %(name)s har ingen e-postadresse.",
                                               ref=case.reference, name=coordinator.full_name), case_id)
        subject, body = reminder_text(case.reference, case_id)
        message = Outbox(s, svc.clock, case_id).send(coordinator.email, subject, body,
                                                     link=f"/saker/{case_id}", plain=True)
        s.flush()
        record(s, "supervision_reminder", at=svc.clock.now(), actor_id=actor_id, case_id=case_id,
               coordinator_id=coordinator.id, outbox_message_id=message.id, reason=reason,
               **titled("Tilsyn: påminnelse sendt til koordinator"))
        return Outcome(case_id, DONE, _("Sak %(ref)s: påminnelse sendt til %(name)s.", ref=case.reference,
                                        name=coordinator.full_name), case_id)
