"""Why a case is stuck: each rule is a named query over register data (statuses, dates, roles,
the state of steps; never what anyone wrote). Every rule gives rows of the same shape, so the
cockpit lists them as one union, sorted and paginated in SQL:

``case_id, rule, since (the day the case got stuck), process_id, detail (a step's BPMN id or a
kind), ref (the incident, open step, measure, evaluation, transition, consent or plan it is about),
instance_id (the episode, for rules about a step)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, String, and_, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from webapp.cases.models import Case, Consent
from webapp.clock import OSLO
from webapp.db import day_after_months
from webapp.engine.models import Incident, OpenTask, ProcessDefinition, ProcessInstance
from webapp.evaluations.models import Evaluation
from webapp.meetings.models import Measure
from webapp.plans.models import Plan
from webapp.plans.operations import PLAN_PROCESS
from webapp.settings.operations import get_setting
from webapp.transitions.models import Transition

#: case statuses in which a group is being set up or runs (a coordinator is expected)
OPEN_GROUP = ("awaiting_consent", "establishing", "active")
#: a consent's end counts as due this many months before it
CONSENT_NOTICE_MONTHS = 1


@dataclass(frozen=True)
class Rule:
    key: str
    title: object  # lazy Norwegian text
    explanation: object
    query: Callable[["Context"], Select]


@dataclass(frozen=True)
class Context:
    now: datetime
    today: date
    #: the settings the rules read (``read_settings``)
    settings: dict


def read_settings(session: Session) -> dict:
    """The settings the rules depend on, read once per page."""
    return {key: int(get_setting(session, key)) for key in ("meeting_interval_months", "consent_waiting_days")}


def _row(case_id, rule: str, since, process_id, detail=None, ref=None, instance_id=None) -> list:
    return [case_id.label("case_id"), literal(rule, String(30)).label("rule"), since.label("since"),
            (process_id if process_id is not None else null()).label("process_id"),
            (detail if detail is not None else literal(None, String(255))).label("detail"),
            (ref if ref is not None else literal(None, Integer)).label("ref"),
            (instance_id if instance_id is not None else literal(None, Integer)).label("instance_id")]


def _day(expression):
    return day_after_months(expression, 0)


def _incident(c: Context) -> Select:
    return (select(*_row(Incident.case_id, "incident", _day(Incident.created_at),
                         ProcessDefinition.process_id, Incident.task_spec, Incident.id, Incident.instance_id))
            .join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
            .where(Incident.status == "open"))


def _steps(rule: str, since, condition) -> Callable[[Context], Select]:
    def query(c: Context) -> Select:
        return (select(*_row(OpenTask.case_id, rule, since, ProcessDefinition.process_id, OpenTask.task_spec,
                             OpenTask.id, OpenTask.instance_id))
                .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
                .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
                .where(condition(c)))
    return query


def _overdue(c: Context):
    # the second bound follows from the first; on the index's day it lets a walk from the newest
    # end start at today instead of passing every step that is not yet due
    return and_(OpenTask.due_at < c.now, _day(OpenTask.due_at) <= c.today)


def _meeting_due(c: Context) -> Select:
    """An active group whose last held meeting (or, before the first, its activation) lies more
    than the meeting interval back (``register/meeting_due.py`` says the same for one case): the
    day it fell due is kept on the case (``cases/summary.py``), in an index."""
    return (select(*_row(Case.id, "meeting_due", Case.meeting_due_on, literal("meeting")))
            .where(Case.status == "active", Case.meeting_due_on < c.today))


def _evaluation_overdue(c: Context) -> Select:
    return (select(*_row(Evaluation.case_id, "evaluation_overdue", Evaluation.due_on, literal("evaluation"),
                         Evaluation.kind, Evaluation.id))
            .join(Case, Case.id == Evaluation.case_id)
            .where(Evaluation.status == "scheduled", Evaluation.due_on < c.today, Case.status == "active"))


def _plan_revision_due(c: Context) -> Select:
    """An active group's adopted plan (individual plan or relay log) whose revision date has
    passed (Oslo's day) and which has not been revised since: revising it sets the next date.
    Register data only: the plan's kind and its revision date (``since``), never what it says."""
    return (select(*_row(Plan.case_id, "plan_revision_due", Plan.revision_due_on, literal(PLAN_PROCESS),
                         Plan.kind, Plan.id))
            .join(Case, Case.id == Plan.case_id)
            .where(Plan.status == "adopted", Plan.revision_due_on < c.today, Case.status == "active"))


def _review_not_started(c: Context) -> Select:
    return (select(*_row(Transition.case_id, "review_not_started", Transition.review_from,
                         literal("transition_review"), Transition.kind, Transition.id))
            .join(Case, Case.id == Transition.case_id)
            .where(Transition.status == "planned", Transition.review_from < c.today, Case.status == "active"))


def _measure_overdue(c: Context) -> Select:
    return (select(*_row(Measure.case_id, "measure_overdue", Measure.deadline, literal("measure"), None,
                         Measure.id))
            .join(Case, Case.id == Measure.case_id)
            .where(Measure.status == "open", Measure.deadline < c.today, Case.status == "active"))


def _consent_due(c: Context) -> Select:
    """The case's newest consent ends within a month (setting ``consent_valid_months``), or has
    ended, and is neither withdrawn nor renewed (nor ended with the group). Read in the order of
    the day it fell due from an index on that day; the second bound on that day follows from the
    first and lets the index stop there."""
    within = c.today + relativedelta(months=CONSENT_NOTICE_MONTHS)
    due_on = day_after_months(Consent.valid_until, -CONSENT_NOTICE_MONTHS)
    return (select(*_row(Consent.case_id, "consent_due", due_on, literal("establishment"), None, Consent.id))
            .join(Case, Case.id == Consent.case_id)
            .where(Consent.given.is_(True), Consent.superseded.is_(False), Consent.withdrawn_at.is_(None),
                   Consent.ended_at.is_(None), Consent.valid_until.is_not(None), Consent.valid_until <= within,
                   due_on <= within - relativedelta(months=CONSENT_NOTICE_MONTHS),
                   Case.status.in_(OPEN_GROUP)))


def _no_coordinator(c: Context) -> Select:
    return (select(*_row(Case.id, "no_coordinator", _day(func.coalesce(Case.activated_at, Case.created_at)),
                         literal("establishment")))
            .where(Case.status.in_(OPEN_GROUP), Case.has_coordinator.is_(False)))


def _consent_waiting(c: Context) -> Select:
    """Waiting for consent since the case got that status, longer than the setting."""
    waiting_from = c.now - timedelta(days=c.settings["consent_waiting_days"])
    return (select(*_row(Case.id, "consent_waiting", _day(Case.status_since), literal("establishment")))
            .where(Case.status == "awaiting_consent", Case.status_since < waiting_from,
                   # follows from the bound before; the index's day lets the newest end start there
                   _day(Case.status_since) <= waiting_from.astimezone(OSLO).date()))


RULES: dict[str, Rule] = {rule.key: rule for rule in [
    Rule("incident", _l("Feil i et steg"),
         _l("Et automatisk steg feilet og venter på at noen prøver igjen. Saken står fast fra feilen oppsto."),
         _incident),
    Rule("overdue_step", _l("Steg over fristen"),
         _l("Et steg er ikke gjort innen fristen i prosessen. Saken står fast fra fristen."),
         _steps("overdue_step", _day(OpenTask.due_at), _overdue)),
    Rule("orphaned_step", _l("Steg uten noen som kan gjøre det"),
         _l("Ingen aktiv person har rollen steget hører til, for eksempel etter at en bruker ble deaktivert."),
         _steps("orphaned_step", _day(OpenTask.created_at), lambda c: OpenTask.orphaned.is_(True))),
    Rule("meeting_due", _l("Ikke møte innen fristen"),
         _l("Siste møte (eller aktiveringen, før første møte) ligger lenger tilbake enn kommunens innstilling "
            "for hvor ofte gruppen skal møtes. Saken står fast fra dagen møtet skulle vært holdt."),
         _meeting_due),
    Rule("evaluation_overdue", _l("Evaluering forfalt"),
         _l("Evalueringen av gruppen (eller spørsmålet om den trengs) skulle vært gjort og er ikke fullført."),
         _evaluation_overdue),
    Rule("plan_revision_due", _l("Planrevisjon forfalt"),
         _l("Den vedtatte individuelle planen (eller stafettloggen) skulle vært revidert innen revisjonsdatoen, "
            "og er ikke revidert. Saken står fast fra revisjonsdatoen."),
         _plan_revision_due),
    Rule("review_not_started", _l("Gjennomgang før overgang ikke startet"),
         _l("Gjennomgangen av sammensetningen før en overgang skulle ha startet, men har ikke startet."),
         _review_not_started),
    Rule("measure_overdue", _l("Tiltak forfalt"),
         _l("Et tiltak fra et møte er ikke fullført innen fristen."),
         _measure_overdue),
    Rule("consent_due", _l("Samtykket må fornyes"),
         _l("Samtykket utløper innen en måned (eller har utløpt) etter kommunens innstilling for hvor lenge det "
            "gjelder, og er ikke fornyet."),
         _consent_due),
    Rule("no_coordinator", _l("Gruppe uten koordinator"),
         _l("Gruppen er under etablering eller aktiv, men har ingen aktiv koordinator, for eksempel etter en "
            "deaktivering."),
         _no_coordinator),
    Rule("consent_waiting", _l("Venter lenge på samtykke"),
         _l("Gruppen har ventet på samtykke lenger enn kommunens innstilling (dager). Saken står fast fra den "
            "begynte å vente."),
         _consent_waiting),
]}


def stuck(settings: dict, now: datetime, today: date, keys: list[str] | None = None):
    """The union of the chosen rules (all by default) as a subquery ``stuck``."""
    context = Context(now, today, settings)
    chosen = [RULES[k] for k in (keys or RULES) if k in RULES]
    return union_all(*[rule.query(context) for rule in chosen]).subquery("stuck")


def counts(session: Session, now: datetime, today: date) -> dict[str, int]:
    """How many rows each rule has now (every rule present, 0 included)."""
    rows = stuck(read_settings(session), now, today)
    found = dict(session.execute(select(rows.c.rule, func.count()).group_by(rows.c.rule)).all())
    return {key: int(found.get(key, 0)) for key in RULES}
