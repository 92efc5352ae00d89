"""The supervisors' process view (issue 13): per process, how many open steps wait at each element
and for how long, open incidents per element, the cases waiting at one element, and one case's
episodes with where each stands in its diagram. Register data only: ids, counts, times, the
names the diagrams give their elements, case references and titles — never task data, incident
messages or status reasons.

Speed: the figures per element are one grouped query whatever the number of open steps. The
median wait is computed in the database: ``percentile_cont`` on PostgreSQL; on SQLite (no
ordered-set aggregates) a window query that returns at most three rows per element (the oldest
and the one or two middle steps). No step is loaded into Python to count or rank it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Float, Select, and_, cast, extract, func, or_, select
from sqlalchemy.orm import Session, defer, undefer

from webapp.cases.models import Case
from webapp.engine import positions
from webapp.engine.library import SpecCache
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance
from webapp.paging import Page, paginate
from webapp.workbench.operations import latest_versions, main_file, version

#: instance statuses whose open steps wait (an incident keeps its steps open until the retry)
ACTIVE = ("running", "incident")
#: median wait (days) from which an element gets heat 2, 3 and 4; any wait below the first is 1
HEAT_DAYS = (7, 30, 90)
#: the order of the lists of waiting steps: the longest waiting first
WAITING_KEYS = [OpenTask.created_at, OpenTask.id]
INCIDENT_KEYS = [Incident.created_at, Incident.id]
EPISODE_KEYS = [ProcessInstance.created_at, ProcessInstance.id]
EPISODES_PER_PAGE = 20


# --------------------------------------------------------------------------------------------
# The list of processes

@dataclass
class ProcessSummary:
    process_id: str
    name: str
    version: int
    active: int = 0  # running episodes (with or without an incident)
    waiting: int = 0  # open steps
    incidents: int = 0  # open incidents
    oldest: datetime | None = None  # when the longest-waiting open step opened


def process_summaries(s: Session) -> list[ProcessSummary]:
    """Every process (newest version's name), with its counts: four grouped queries."""
    summaries = {d.process_id: ProcessSummary(d.process_id, d.name, d.version) for d in latest_versions(s)}
    process = ProcessDefinition.process_id
    for process_id, count in s.execute(
            select(process, func.count(ProcessInstance.id))
            .join(ProcessInstance, ProcessInstance.definition_id == ProcessDefinition.id)
            .where(ProcessInstance.status.in_(ACTIVE)).group_by(process)):
        if process_id in summaries:
            summaries[process_id].active = count
    for process_id, count, oldest in s.execute(
            select(process, func.count(OpenTask.id), func.min(OpenTask.created_at))
            .select_from(OpenTask)
            .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessInstance.status.in_(ACTIVE)).group_by(process)):
        if process_id in summaries:
            summaries[process_id].waiting, summaries[process_id].oldest = count, oldest
    for process_id, count in s.execute(
            select(process, func.count(Incident.id))
            .select_from(Incident)
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(Incident.status == "open").group_by(process)):
        if process_id in summaries:
            summaries[process_id].incidents = count
    return list(summaries.values())


def versions(s: Session, process_id: str) -> list[tuple[int, int]]:
    """(version, running episodes) of a process, newest first: one query."""
    return [tuple(row) for row in s.execute(
        select(ProcessDefinition.version, func.count(ProcessInstance.id))
        .outerjoin(ProcessInstance, and_(ProcessInstance.definition_id == ProcessDefinition.id,
                                         ProcessInstance.status.in_(ACTIVE)))
        .where(ProcessDefinition.process_id == process_id)
        .group_by(ProcessDefinition.version).order_by(ProcessDefinition.version.desc()))]


# --------------------------------------------------------------------------------------------
# Figures per element

@dataclass
class ElementFigures:
    bpmn_id: str
    name: str | None = None
    human: bool = False
    #: whether the shown diagram has this element (steps of older versions may wait elsewhere)
    in_diagram: bool = True
    waiting: int = 0
    median_wait: timedelta | None = None
    longest_wait: timedelta | None = None
    incidents: int = 0

    @property
    def median_days(self) -> int | None:
        return self.median_wait.days if self.median_wait is not None else None

    @property
    def longest_days(self) -> int | None:
        return self.longest_wait.days if self.longest_wait is not None else None

    @property
    def heat(self) -> int:
        """0 (nobody waits) to 4 (the median wait is at least the last of HEAT_DAYS)."""
        if not self.waiting or self.median_wait is None:
            return 0
        return 1 + sum(self.median_wait.days >= limit for limit in HEAT_DAYS)

    @property
    def shown(self) -> bool:
        """Whether the table lists it: every step people do, and anything with steps or incidents."""
        return self.human or bool(self.waiting or self.incidents)


def _scope(query: Select, process_id: str, definition_id: int | None) -> Select:
    """Restrict ``query`` (joined to ProcessInstance) to one process, or one version of it."""
    if definition_id is not None:
        return query.where(ProcessInstance.definition_id == definition_id)
    return (query.join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(ProcessDefinition.process_id == process_id))


def _waits_postgresql(s: Session, process_id: str, definition_id: int | None) -> dict:
    median = func.percentile_cont(0.5).within_group(cast(extract("epoch", OpenTask.created_at), Float))
    query = (select(OpenTask.task_spec, func.count(OpenTask.id), func.min(OpenTask.created_at), median)
             .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
             .where(ProcessInstance.status.in_(ACTIVE)))
    rows = s.execute(_scope(query, process_id, definition_id).group_by(OpenTask.task_spec))
    return {spec: (count, oldest, datetime.fromtimestamp(middle, timezone.utc))
            for spec, count, oldest, middle in rows}


def _waits_sqlite(s: Session, process_id: str, definition_id: int | None) -> dict:
    partition = OpenTask.task_spec
    ranked = _scope(
        select(OpenTask.task_spec.label("spec"), OpenTask.created_at.label("at"),
               func.row_number().over(partition_by=partition, order_by=(OpenTask.created_at, OpenTask.id)).label("rn"),
               func.count(OpenTask.id).over(partition_by=partition).label("n"))
        .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
        .where(ProcessInstance.status.in_(ACTIVE)), process_id, definition_id).subquery()
    middle = and_(ranked.c.rn * 2 >= ranked.c.n, ranked.c.rn * 2 <= ranked.c.n + 2)  # one or two rows
    found: dict[str, list] = {}
    for spec, n, rn, at in s.execute(select(ranked.c.spec, ranked.c.n, ranked.c.rn, ranked.c.at)
                                     .where(or_(ranked.c.rn == 1, middle))):
        entry = found.setdefault(spec, [n, None, []])
        if rn == 1:
            entry[1] = at
        if n <= rn * 2 <= n + 2:
            entry[2].append(at)
    return {spec: (n, oldest, min(mids) + (max(mids) - min(mids)) / 2) for spec, (n, oldest, mids) in found.items()}


def step_counts(s: Session, process_id: str, definition_id: int | None = None) -> dict:
    """Open steps per element as (count, oldest opened, median opened). One grouped query."""
    per_dialect = _waits_postgresql if s.get_bind().dialect.name == "postgresql" else _waits_sqlite
    return per_dialect(s, process_id, definition_id)


def element_counts(s: Session, process_id: str, definition_id: int | None = None) -> tuple[dict, dict]:
    """The grouped figures a process map shows, as they stand now: (``step_counts``, open
    incidents per element). The page may keep them a minute: they do not depend on the moment
    they are shown at (the waits are reckoned from it afterwards)."""
    return step_counts(s, process_id, definition_id), incident_counts(s, process_id, definition_id)


def waits(s: Session, process_id: str, now: datetime, definition_id: int | None = None,
          counted: dict | None = None) -> dict[str, ElementFigures]:
    """Open steps per element: how many, the median and the longest wait. One grouped query
    (none when ``counted``, the steps part of ``element_counts``, is given)."""
    if counted is None:
        counted = step_counts(s, process_id, definition_id)
    figures = {}
    for spec, (count, oldest, median_opened) in counted.items():
        figures[spec] = ElementFigures(spec, waiting=count, median_wait=max(now - median_opened, timedelta(0)),
                                       longest_wait=max(now - oldest, timedelta(0)))
    return figures


def incident_counts(s: Session, process_id: str, definition_id: int | None = None) -> dict[str | None, int]:
    """Open incidents per element id (None: not tied to an element). One grouped query."""
    query = (select(Incident.task_spec, func.count(Incident.id))
             .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
             .where(Incident.status == "open"))
    return dict(s.execute(_scope(query, process_id, definition_id).group_by(Incident.task_spec)).all())


@dataclass
class ProcessMap:
    definition: ProcessDefinition
    #: the main file's XML of the shown version
    xml: str
    #: every element the table lists, in the diagram's order, then those only older versions have
    elements: list[ElementFigures]
    #: open incidents not tied to an element
    unplaced_incidents: int = 0
    #: whether the figures cover every version's episodes (else only the shown version's)
    all_versions: bool = True

    def figures(self, bpmn_id: str) -> ElementFigures | None:
        return next((e for e in self.elements if e.bpmn_id == bpmn_id), None)


def process_map(s: Session, specs: SpecCache, process_id: str, now: datetime,
                number: int | None = None, counts=element_counts) -> ProcessMap | None:
    """The diagram of a version (the newest without ``number``) with its figures: those of every
    version's episodes on the newest (they are the episodes still running), those of the version's
    own episodes when one is asked for. None if the process or version does not exist.
    ``counts(s, process_id, definition_id)``: ``element_counts`` or a cached copy of it."""
    definition = version(s, process_id, number, content=True)
    if definition is None:
        return None
    only = definition.id if number is not None else None
    counted, incidents = counts(s, process_id, only)
    found = waits(s, process_id, now, only, counted=counted)
    incidents = dict(incidents)
    spec, _subs = specs.get(definition)
    listed: dict[str, ElementFigures] = {}
    for element in positions.elements(spec):
        figures = found.pop(element.bpmn_id, None) or ElementFigures(element.bpmn_id)
        figures.name, figures.human = element.name, element.human
        listed[element.bpmn_id] = figures
    for bpmn_id, figures in found.items():  # steps of an older version at an element this one lacks
        figures.in_diagram = False
        listed[bpmn_id] = figures
    unplaced = incidents.pop(None, 0)
    for bpmn_id, count in incidents.items():
        listed.setdefault(bpmn_id, ElementFigures(bpmn_id, in_diagram=False)).incidents = count
    return ProcessMap(definition, definition.documents[main_file(definition)],
                      [e for e in listed.values() if e.shown], unplaced, number is None)


def known_element(s: Session, specs: SpecCache, process_id: str, element_id: str
                  ) -> tuple[ProcessDefinition, str] | None:
    """The newest version of a process and the name (or id) of one of its elements, if that
    version has it or some open step or incident sits there (an element of an older version);
    None if the process or the element is unknown."""
    definition = version(s, process_id)
    if definition is None:
        return None
    spec, _subs = specs.get(definition)
    for element in positions.elements(spec):
        if element.bpmn_id == element_id:
            return definition, element.name or element.bpmn_id
    in_use = _scope(select(OpenTask.id).join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
                    .where(OpenTask.task_spec == element_id), process_id, None).limit(1)
    failed = _scope(select(Incident.id).join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
                    .where(Incident.task_spec == element_id, Incident.status == "open"), process_id, None).limit(1)
    if s.scalar(in_use) is not None or s.scalar(failed) is not None:
        return definition, element_id
    return None


# --------------------------------------------------------------------------------------------
# The cases at one element

def waiting_at(process_id: str, element_id: str) -> Select:
    """Rows of ``OpenTask, Case, *WAITING_KEYS``: the open steps waiting at an element (every
    version), the longest waiting first. Only register columns are shown from them."""
    query = (select(OpenTask, Case, *WAITING_KEYS)
             .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
             .join(Case, Case.id == OpenTask.case_id)
             .where(OpenTask.task_spec == element_id, ProcessInstance.status.in_(ACTIVE))
             .options(defer(Case.wish), defer(Case.status_reason)))
    return _scope(query, process_id, None)


def incidents_at(process_id: str, element_id: str) -> Select:
    """Rows of ``Incident, Case, *INCIDENT_KEYS``: open incidents at an element (message and
    pending data not read)."""
    query = (select(Incident, Case, *INCIDENT_KEYS)
             .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
             .join(Case, Case.id == ProcessInstance.case_id)
             .where(Incident.task_spec == element_id, Incident.status == "open")
             .options(defer(Incident.message), defer(Incident.pending),
                      defer(Case.wish), defer(Case.status_reason)))
    return _scope(query, process_id, None)


# --------------------------------------------------------------------------------------------
# One case's episodes

@dataclass
class Episode:
    instance_id: int
    process_id: str
    name: str
    version: int
    definition_id: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    done: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    #: the names of the current elements (register data: the diagram's own words)
    current_names: list[str] = field(default_factory=list)
    open_incident: bool = False


@dataclass
class Episodes:
    page: Page
    episodes: list[Episode]
    #: {definition id: the main file's XML}, each version once
    diagrams: dict[int, str]


def case_episodes(s: Session, specs: SpecCache, case_id: int, cursor: str | None) -> Episodes:
    """One page of a case's episodes, newest first, each with its done and current elements (read
    from the stored state; the state's data is never shown) and its version's diagram."""
    page = paginate(s, select(ProcessInstance, *EPISODE_KEYS).where(ProcessInstance.case_id == case_id),
                    EPISODE_KEYS, cursor, descending=True, size=EPISODES_PER_PAGE)
    instances = [row[0] for row in page.rows]
    failing = set(s.scalars(select(Incident.instance_id).where(
        Incident.instance_id.in_([i.id for i in instances]), Incident.status == "open"))) if instances else set()
    definitions = {}
    if instances:
        definitions = {d.id: d for d in s.scalars(
            select(ProcessDefinition).where(ProcessDefinition.id.in_({i.definition_id for i in instances}))
            .execution_options(populate_existing=True)
            .options(undefer(ProcessDefinition.documents)))}
    episodes, diagrams = [], {}
    for instance in instances:
        definition = definitions[instance.definition_id]
        if definition.id not in diagrams:
            diagrams[definition.id] = definition.documents[main_file(definition)]
        spec, subs = specs.get(definition)
        where = positions.element_states(spec, instance.state, subs)
        names = {e.bpmn_id: e.name or e.bpmn_id for e in positions.elements(spec)}
        episodes.append(Episode(
            instance.id, definition.process_id, definition.name, definition.version, definition.id,
            instance.status, instance.created_at, instance.completed_at, list(where.done),
            list(where.current), [names.get(bpmn_id, bpmn_id) for bpmn_id in where.current],
            instance.id in failing))
    return Episodes(page, episodes, diagrams)
