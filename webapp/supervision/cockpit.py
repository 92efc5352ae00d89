"""The cockpit's list of stuck cases: the rules' union joined to the case, filtered and sorted in
SQL, one page at a time. Filters come from the URL and are checked here: a value that makes no
sense is dropped with a message, never an error page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, select, union_all
from sqlalchemy.orm import Session

from webapp.cases.models import Case, CaseMember, Person, Unit
from webapp.paging import PAGE_SIZE, Page, decode, encode, rows_after
from webapp.supervision.rules import RULES, Context, stuck

#: age stages (guideline 001 and the transitions): name -> (label, from age, to age) in whole years
AGE_STAGES = {
    "preschool": (_l("Før skolealder (0–5 år)"), 0, 6),
    "primary": (_l("Barneskole (6–12 år)"), 6, 13),
    "lower_secondary": (_l("Ungdomsskole (13–15 år)"), 13, 16),
    "upper_secondary": (_l("Videregående (16–18 år)"), 16, 19),
    "adult": (_l("Voksen (19 år og eldre)"), 19, 150),
}
SORTS = {"eldst": _l("Lengst fast først"), "nyest": _l("Nyest først")}
#: the URL parameters the filters use (saved views store exactly these)
PARAMETERS = ("regel", "enhet", "koordinator", "prosess", "alder", "dager", "sortering")
MAX_DAYS = 36500


@dataclass
class Filters:
    rule: str | None = None
    unit_id: int | None = None
    coordinator_id: int | None = None
    process_id: str | None = None
    age_stage: str | None = None
    min_days: int | None = None
    sort: str = "eldst"
    #: why a value in the URL was ignored (Norwegian)
    problems: list[str] = field(default_factory=list)

    def query_args(self) -> dict[str, str]:
        """The filters as URL parameters (for links, saved views and the CSV)."""
        values = {"regel": self.rule, "enhet": self.unit_id, "koordinator": self.coordinator_id,
                  "prosess": self.process_id, "alder": self.age_stage, "dager": self.min_days,
                  "sortering": None if self.sort == "eldst" else self.sort}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _whole(raw: str, limit: int) -> int | None:
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9 and 0 <= int(raw) <= limit:
        return int(raw)
    return None


def read_filters(args, known_processes: set[str]) -> Filters:
    found = Filters()
    raw = {key: (args.get(key) or "").strip() for key in PARAMETERS}
    if raw["regel"]:
        if raw["regel"] in RULES:
            found.rule = raw["regel"]
        else:
            found.problems.append(_("Ukjent regel «%(v)s» ble ikke brukt.", v=raw["regel"][:60]))
    for key, attribute, what in (("enhet", "unit_id", _("enhet")), ("koordinator", "coordinator_id", _("koordinator"))):
        if raw[key]:
            number = _whole(raw[key], 2**31 - 1)
            if number is None:
                found.problems.append(_("Ugyldig %(what)s «%(v)s» ble ikke brukt.", what=what, v=raw[key][:60]))
            else:
                setattr(found, attribute, number)
    if raw["prosess"]:
        if raw["prosess"] in known_processes:
            found.process_id = raw["prosess"]
        else:
            found.problems.append(_("Ukjent prosess «%(v)s» ble ikke brukt.", v=raw["prosess"][:60]))
    if raw["alder"]:
        if raw["alder"] in AGE_STAGES:
            found.age_stage = raw["alder"]
        else:
            found.problems.append(_("Ukjent alderstrinn «%(v)s» ble ikke brukt.", v=raw["alder"][:60]))
    if raw["dager"]:
        found.min_days = _whole(raw["dager"], MAX_DAYS)
        if found.min_days is None:
            found.problems.append(_("«%(v)s» er ikke et antall dager fra 0 til %(max)s, og ble ikke brukt.",
                                    v=raw["dager"][:60], max=MAX_DAYS))
    if raw["sortering"]:
        if raw["sortering"] in SORTS:
            found.sort = raw["sortering"]
        else:
            found.problems.append(_("Ukjent sortering «%(v)s» ble ikke brukt.", v=raw["sortering"][:60]))
    return found


def coordinator_name():
    """The active coordinator's name, correlated to ``cases.id`` (register data)."""
    return (select(CaseMember.name).where(CaseMember.case_id == Case.id, CaseMember.role == "koordinator",
                                          CaseMember.active.is_(True))
            .order_by(CaseMember.id).limit(1).scalar_subquery())


def stuck_rows(settings: dict, now: datetime, today: date, filters: Filters):
    """(query, keys): rows of the rules' columns plus the case's reference, title, status and
    coordinator, filtered; ``keys`` are the keyset columns, selected last. ``settings``:
    ``rules.read_settings``."""
    rows = stuck(settings, now, today, [filters.rule] if filters.rule else None)
    keys = [rows.c.since, rows.c.case_id, rows.c.rule, func.coalesce(rows.c.ref, 0).label("ref_key")]
    query = (select(rows.c.case_id, rows.c.rule, rows.c.since, rows.c.process_id, rows.c.detail, rows.c.ref,
                    rows.c.instance_id,
                    Case.reference, Case.title, Case.status, coordinator_name().label("coordinator"), *keys)
             .join(Case, Case.id == rows.c.case_id))
    return _filtered(query, rows, today, filters), keys


def stuck_page(session: Session, settings: dict, now: datetime, today: date, filters: Filters,
               cursor: str | None, size: int = PAGE_SIZE) -> Page:
    """One page of the list, fast at any size: each rule gives at most ``size + 1`` rows after the
    cursor, already filtered and in order (a top-N per rule, not a sort of every stuck case), and
    only the page's rows are merged, joined to their cases and named."""
    descending = filters.sort == "nyest"
    after = decode(cursor, KEY_KINDS)
    context = Context(now, today, settings)
    parts = []
    for key in ([filters.rule] if filters.rule else list(RULES)):
        rows = RULES[key].query(context).subquery(key)
        keys = _keys(rows)
        part = _filtered(select(rows).join(Case, Case.id == rows.c.case_id), rows, today, filters)
        if after is not None:
            part = rows_after(part, keys, after, descending=descending)
        part = part.order_by(*[k.desc() if descending else k for k in keys]).limit(size + 1)
        parts.append(select(part.subquery(f"{key}_top")))
    merged = union_all(*parts).subquery("stuck_page")
    keys = _keys(merged)
    query = (select(merged, Case.reference, Case.title, Case.status, coordinator_name().label("coordinator"))
             .join(Case, Case.id == merged.c.case_id)
             .order_by(*[k.desc() if descending else k for k in keys]).limit(size + 1))
    rows = session.execute(query).all()
    following = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        following = encode((last.since, last.case_id, last.rule, last.ref or 0))
    return Page(rows, following, after is not None)


#: the kinds of the list's keyset: (since, case id, rule, ref)
KEY_KINDS = (date, int, str, int)


def _keys(rows) -> list:
    return [rows.c.since, rows.c.case_id, rows.c.rule, func.coalesce(rows.c.ref, 0)]


def _filtered(query: Select, rows, today: date, filters: Filters) -> Select:
    if filters.unit_id is not None:
        query = query.where(exists().where(CaseMember.case_id == Case.id, CaseMember.unit_id == filters.unit_id,
                                           CaseMember.active.is_(True)))
    if filters.coordinator_id is not None:
        query = query.where(exists().where(CaseMember.case_id == Case.id, CaseMember.role == "koordinator",
                                           CaseMember.user_id == filters.coordinator_id,
                                           CaseMember.active.is_(True)))
    if filters.process_id is not None:
        query = query.where(rows.c.process_id == filters.process_id)
    if filters.age_stage is not None:
        _label, youngest, oldest = AGE_STAGES[filters.age_stage]
        born_after = today - relativedelta(years=oldest)
        born_by = today - relativedelta(years=youngest)
        query = query.where(exists().where(Person.id == Case.person_id, Person.birth_date > born_after,
                                           Person.birth_date <= born_by))
    if filters.min_days is not None:
        query = query.where(rows.c.since <= today - relativedelta(days=filters.min_days))
    return query


def rule_counts(session: Session, settings: dict, now: datetime, today: date, filters: Filters) -> dict[str, int]:
    """How many rows each rule has under the filters other than the rule (so the counts say what
    choosing a rule would show)."""
    rows = stuck(settings, now, today)
    query = _filtered(select(rows.c.rule, func.count()).join(Case, Case.id == rows.c.case_id), rows, today,
                      Filters(unit_id=filters.unit_id, coordinator_id=filters.coordinator_id,
                              process_id=filters.process_id, age_stage=filters.age_stage,
                              min_days=filters.min_days))
    found = dict(session.execute(query.group_by(rows.c.rule)).all())
    return {key: int(found.get(key, 0)) for key in RULES}


def choices(session: Session) -> dict:
    """What the filters offer: units, coordinators (people who coordinate an open group) and
    processes."""
    from webapp.engine.models import ProcessDefinition
    units = session.execute(select(Unit.id, Unit.name).order_by(Unit.name)).all()
    coordinators = session.execute(
        select(CaseMember.user_id, func.min(CaseMember.name))
        .where(CaseMember.role == "koordinator", CaseMember.active.is_(True), CaseMember.user_id.is_not(None))
        .group_by(CaseMember.user_id).order_by(func.min(CaseMember.name))).all()
    processes = session.execute(select(ProcessDefinition.process_id, func.max(ProcessDefinition.name))
                                .group_by(ProcessDefinition.process_id)
                                .order_by(ProcessDefinition.process_id)).all()
    return {"units": units, "coordinators": coordinators, "processes": processes}
