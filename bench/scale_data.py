"""Data for the scale benchmark: a few real cases made by the app's own domain code (the demo), then
copied with SQL on PostgreSQL until there are N groups.

The demo (``webapp.demo.seed``) makes seven cases in different states — a wish, awaiting consent,
establishing, two active groups (a held meeting with minutes, measures with reminder timers, a
deviation, transitions, an evaluation due), a closed group and a refused consent — with their
members, consents, instances, open tasks, scheduled starts, audit events and status histories.
Those rows are the *template*. Copy ``c`` of the template is one ``INSERT … SELECT`` per table over
``generate_series``: every id is ``template id + base + (c - first copy) * M`` where ``M`` is the
template's largest id in that table and ``base`` the table's largest id before this batch, and every
foreign key into a copied table is moved the same way, so each copy is a consistent group of its
own. Users, units, settings and process definitions are shared, except that the demo coordinator
(``kari``) becomes one of a pool of coordinator accounts (``koord000000`` …, one per
``COPIES_PER_COORDINATOR`` copies, about 24 groups each, same password), so a coordinator's inbox
stays the size of a real one. Persons get generated names and national ids, cases unique
references (``AG-<year>-<id, 6 digits>``).

Known limits of the copies: the workflow state JSON of an instance and audit details are copied
verbatim (task data inside them still names the template's member/meeting ids; no page reads them
and a timer check that fires nothing does not either); scheduled starts' data and keys are remapped
(their handlers read them when the episode starts).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from webapp.db import Base

#: demo copies per pool coordinator: 6 of the 7 template cases have a coordinator -> 24 groups each
COPIES_PER_COORDINATOR = 4
#: pool coordinator k has users.id = COORD_BASE + k (far above the users sequence)
COORD_BASE = 1_000_000
#: tables never copied (shared by all groups)
SHARED = {"users", "units", "settings", "login_attempts", "user_sessions", "process_definitions",
          "alembic_version"}
#: scheduled-start keys "<kind>:<id>[:<suffix>]" -> the table the id points into
KEY_TABLES = {"transition": "transitions", "evaluation": "evaluations", "meeting": "meetings", "plan": "plans"}

FIRST_NAMES = ["Jonas", "Emma", "Nora", "Emil", "Sofie", "Lars", "Maja", "Ingrid", "Olav", "Sara",
               "Henrik", "Ida", "Magnus", "Thea", "Sander", "Ella", "Filip", "Leah", "Mathias", "Frida",
               "Aksel", "Tuva", "Elias", "Vilde", "Tobias", "Hanna", "Jakob", "Selma", "Noah", "Astrid"]
LAST_NAMES = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
              "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
              "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
              "Lund", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg",
              "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen",
              "Mathisen", "Lie"]


@dataclass
class Template:
    """The template rows: per copied table its largest id (rows per copy) and its columns."""
    max_ids: dict[str, int]
    columns: dict[str, list[str]]
    order: list[str]
    kari_id: int
    copies: int = 0  # copies made so far
    #: per batch: (first copy, last copy, {table: base}) to find a copy's rows again
    batches: list[tuple[int, int, dict[str, int]]] = field(default_factory=list)

    @property
    def cases_per_copy(self) -> int:
        return self.max_ids["cases"]

    def copy_id(self, table: str, template_id: int, copy: int) -> int:
        """The id of ``template_id``'s row in ``copy``."""
        for first, last, bases in self.batches:
            if first <= copy <= last:
                return template_id + bases[table] + (copy - first) * self.max_ids[table]
        raise LookupError(f"no copy {copy}")


def _copied_tables() -> list[sa.Table]:
    """The tables that belong to a case (reachable from cases/persons by foreign keys), parents first."""
    found = {"cases", "persons"}
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            if table.name in found or table.name in SHARED:
                continue
            if any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                changed = True
    return [t for t in Base.metadata.sorted_tables if t.name in found]


def read_template(conn, kari_id: int) -> Template:
    import webapp.models  # noqa: F401  (every model on the metadata)
    tables = _copied_tables()
    max_ids, columns = {}, {}
    for table in tables:
        max_ids[table.name] = conn.execute(sa.text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"')).scalar()
        columns[table.name] = [c.name for c in table.columns]
    return Template(max_ids, columns, [t.name for t in tables], kari_id)


def _name(person_col: str) -> str:
    """A person's generated name from the copy number g.c and the template person id."""
    nf, nl = len(FIRST_NAMES), len(LAST_NAMES)
    return (f"(ARRAY[{','.join(repr(n) for n in FIRST_NAMES)}])[1 + (g.c * 7 + {person_col}) % {nf}] || ' ' || "
            f"(ARRAY[{','.join(repr(n) for n in LAST_NAMES)}])[1 + (g.c * 13 + {person_col} * 3) % {nl}]")


def _shift(col: str, table: str, bases: dict[str, int], template: Template, first: int) -> str:
    return f"(t.{col} + {bases[table]} + (g.c - {first}) * {template.max_ids[table]})"


def _expression(table: sa.Table, column: sa.Column, bases: dict, template: Template, first: int) -> str:
    name = column.name
    copied = set(template.order)
    if name == "id":
        return _shift("id", table.name, bases, template, first)
    targets = [fk.column.table.name for fk in column.foreign_keys]
    if targets and targets[0] in copied:
        return _shift(name, targets[0], bases, template, first)
    if targets and targets[0] == "users":
        return (f"(CASE WHEN t.{name} = {template.kari_id} THEN {COORD_BASE} + g.c / {COPIES_PER_COORDINATOR} "
                f"ELSE t.{name} END)")
    new_id = _shift("id", table.name, bases, template, first)
    if table.name == "persons":
        if name == "full_name":
            return _name("t.id")
        if name == "national_id":  # unique 11 digits: birth date + the new id
            return f"(to_char(t.birth_date, 'DDMMYY') || lpad(({new_id} % 100000)::text, 5, '0'))"
    if table.name == "cases":
        if name == "reference":
            return f"('AG-' || split_part(t.reference, '-', 2) || '-' || lpad({new_id}::text, 6, '0'))"
        if name == "title":
            return f"('Ansvarsgruppe for ' || {_name('t.person_id')})"
    if table.name == "scheduled_starts":
        if name == "key":
            cases = " ".join(
                f"WHEN '{kind}' THEN '{kind}:' || (split_part(t.key, ':', 2)::int + {bases[tbl]} "
                f"+ (g.c - {first}) * {template.max_ids[tbl]})::text || regexp_replace(t.key, '^[^:]*:[^:]*', '')"
                for kind, tbl in KEY_TABLES.items())
            return f"(CASE split_part(t.key, ':', 1) {cases} ELSE t.key END)"
        if name == "data":
            return _remapped_start_data(bases, template, first)
    return f"t.{name}"


def _remapped_start_data(bases: dict, template: Template, first: int) -> str:
    """Ids in a scheduled start's data (read by the episode's first handler) moved to the copy."""
    def moved(path: str, tbl: str, as_text: bool = False) -> str:
        value = (f"((t.data::jsonb #>> '{{{path}}}')::int + {bases[tbl]} + (g.c - {first}) * "
                 f"{template.max_ids[tbl]})")
        return f"to_jsonb({value}::text)" if as_text else f"to_jsonb({value})"
    d = "t.data::jsonb"
    steps = [("transition_id", "transitions", False), ("evaluation,evaluation_id", "evaluations", False),
             ("meeting_id", "meetings", False), ("minute_taker_member_id", "case_members", True),
             ("plan,plan_id", "plans", False)]
    for path, tbl, as_text in steps:
        d = (f"(CASE WHEN (t.data::jsonb #> '{{{path}}}') IS NOT NULL AND jsonb_typeof(t.data::jsonb #> '{{{path}}}') <> 'null' "
             f"THEN jsonb_set({d}, '{{{path}}}', {moved(path, tbl, as_text)}) ELSE {d} END)")
    return f"({d})::json"


def ensure_coordinators(conn, template: Template, last_copy: int) -> None:
    """The pool coordinators copies up to ``last_copy`` need (password as kari's)."""
    conn.execute(sa.text(
        f"INSERT INTO users (id, username, full_name, email, password_hash, roles, active, created_at) "
        f"SELECT {COORD_BASE} + k, 'koord' || lpad(k::text, 6, '0'), 'Koordinator ' || k, "
        f"'koord' || k || '@demo.kommune.no', u.password_hash, 'staff', true, u.created_at "
        f"FROM generate_series(0, :last / {COPIES_PER_COORDINATOR}) k, users u WHERE u.id = :kari "
        f"ON CONFLICT (id) DO NOTHING"), {"last": last_copy, "kari": template.kari_id})


def clone(engine: sa.Engine, template: Template, copies: int) -> dict[str, float]:
    """Add ``copies`` copies of the template (one transaction, FK triggers off: the copies are
    consistent by construction). Returns seconds per table."""
    import time
    import webapp.models  # noqa: F401
    first, last = template.copies + 1, template.copies + copies
    timings: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        ensure_coordinators(conn, template, last)
        bases = {name: conn.execute(sa.text(f'SELECT coalesce(max(id), 0) FROM "{name}"')).scalar()
                 for name in template.order}
        for name in template.order:
            table = Base.metadata.tables[name]
            cols = template.columns[name]
            exprs = [_expression(table, table.columns[c], bases, template, first) for c in cols]
            where = [f"t.id <= {template.max_ids[name]}"]
            if "case_id" in cols and table.columns["case_id"].nullable:
                where.append("t.case_id IS NOT NULL")  # not a case's row (e.g. user_created)
            sql = (f'INSERT INTO "{name}" ({", ".join(cols)}) SELECT {", ".join(exprs)} '
                   f'FROM generate_series({first}, {last}) AS g(c) CROSS JOIN "{name}" t '
                   f'WHERE {" AND ".join(where)}')
            t0 = time.perf_counter()
            conn.execute(sa.text(sql))
            timings[name] = time.perf_counter() - t0
        for name in template.order + ["users"]:
            if name == "users":
                continue  # pool ids sit above the sequence on purpose
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                                 f"(SELECT max(id) FROM \"{name}\"))"))
    template.batches.append((first, last, bases))
    template.copies = last
    return timings


def add_access_log(engine: sa.Engine, case_id: int, user_id: int, rows: int, now) -> None:
    """``rows`` access-log rows for one case, one a minute back from ``now``."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO access_log (case_id, user_id, page, at) "
            "SELECT :case_id, :user_id, CASE WHEN i % 3 = 0 THEN 'access_log' ELSE 'case' END, "
            ":now - make_interval(mins => i) FROM generate_series(1, :rows) i"),
            {"case_id": case_id, "user_id": user_id, "rows": rows, "now": now})
