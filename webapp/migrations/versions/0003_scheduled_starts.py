"""scheduled starts: episodes start when they fall due

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00

Creates ``scheduled_starts`` and moves the instances that only wait for a date the domain already
holds into scheduled starts (DESIGN §5, "Episodes start when they fall due"):

* ``evaluation`` instances still waiting at their timer ``wait_due``;
* ``transition_review`` instances still waiting at their first timer ``wait_review``;
* ``meeting`` instances still at their very first step (planning not begun: ``plan`` open and
  nothing else done) whose planning would, under the new rule, start later than now — that is,
  the meeting is more than the notice period plus the planning lead time away (settings
  ``notice_days`` + ``meeting_planning_days``). A meeting closer than that keeps its instance:
  its planning is due anyway, and the coordinator may already have it open.

Each moved instance gets a pending scheduled start (its case, its process, the due time, the start
data read from the stored state, the domain's key) and is cancelled with the reason
"Flyttet til planlagt start"; its open-task rows go, an audit event records it, and the domain
row's ``instance_id`` is cleared (the new episode's first step sets it again). An instance whose
domain row is gone or no longer open is left as it was.

The data conversion reads the stored workflow state as plain JSON (no SpiffWorkflow, no app code):
SpiffWorkflow stores the root task's data and, per task, the changes against its parent.
Downgrade drops the table; moved instances stay cancelled (the scheduled starts held their data).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
import webapp.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OSLO = ZoneInfo("Europe/Oslo")
REASON = "Flyttet til planlagt start"
#: SpiffWorkflow task states (SpiffWorkflow.util.task.TaskState)
WAITING, READY, COMPLETED = 8, 16, 64
#: defaults of the settings the meeting lead time is made of (webapp/settings/defaults.py)
SETTING_DEFAULTS = {"notice_days": 14, "meeting_planning_days": 14}
BATCH = 200


def upgrade() -> None:
    op.create_table('scheduled_starts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('due_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', webapp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_scheduled_starts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], name=op.f('fk_scheduled_starts_instance_id_process_instances')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_starts'))
    )
    with op.batch_alter_table('scheduled_starts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_starts_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_starts_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_starts_status'), ['status'], unique=False)

    move_waiting_instances(op.get_bind(), datetime.now(timezone.utc))


def downgrade() -> None:
    with op.batch_alter_table('scheduled_starts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_starts_status'))
        batch_op.drop_index(batch_op.f('ix_scheduled_starts_due_at'))
        batch_op.drop_index(batch_op.f('ix_scheduled_starts_case_id'))

    op.drop_table('scheduled_starts')


# ------------------------------------------------------------------------------------ the tables
UTC = webapp.db.UTCDateTime(timezone=True)
definitions = sa.table('process_definitions', sa.column('id', sa.Integer), sa.column('process_id', sa.String))
instances = sa.table(
    'process_instances', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
    sa.column('definition_id', sa.Integer), sa.column('status', sa.String), sa.column('status_reason', sa.Text),
    sa.column('state', sa.JSON), sa.column('lock_version', sa.Integer), sa.column('next_due_at', UTC),
    sa.column('updated_at', UTC), sa.column('completed_at', UTC))
open_tasks = sa.table('open_tasks', sa.column('instance_id', sa.Integer))
audit_events = sa.table(
    'audit_events', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
    sa.column('instance_id', sa.Integer), sa.column('actor_id', sa.Integer), sa.column('kind', sa.String),
    sa.column('detail', sa.JSON), sa.column('created_at', UTC))
scheduled_starts = sa.Table(
    'scheduled_starts', sa.MetaData(), sa.Column('id', sa.Integer, primary_key=True),
    sa.Column('case_id', sa.Integer), sa.Column('process_id', sa.String), sa.Column('due_at', UTC),
    sa.Column('data', sa.JSON), sa.Column('key', sa.String), sa.Column('status', sa.String),
    sa.Column('created_at', UTC))
settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON))
evaluations = sa.table(
    'evaluations', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
    sa.column('instance_id', sa.Integer), sa.column('kind', sa.String), sa.column('due_on', sa.Date),
    sa.column('status', sa.String))
transitions = sa.table(
    'transitions', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
    sa.column('instance_id', sa.Integer), sa.column('review_from', sa.Date), sa.column('status', sa.String))
meetings = sa.table(
    'meetings', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
    sa.column('instance_id', sa.Integer), sa.column('starts_at', UTC), sa.column('status', sa.String))


# ----------------------------------------------------------------------------- the stored state
def _is(task: dict, state: int) -> bool:
    value = task.get('state')
    return value == state or (isinstance(value, str) and value.upper() == {
        WAITING: 'WAITING', READY: 'READY', COMPLETED: 'COMPLETED'}[state])


def _tasks(state: dict, spec: str, task_state: int) -> list[dict]:
    return [t for t in (state.get('tasks') or {}).values()
            if isinstance(t, dict) and t.get('task_spec') == spec and _is(t, task_state)]


def _unescape(value):
    """The engine's serializer escapes the key "typename" and keys starting with "~" in task data."""
    if isinstance(value, dict):
        return {(k[1:] if isinstance(k, str) and k.startswith('~') else k): _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value


def task_data(state: dict, task: dict) -> dict:
    """A task's data: the root task's data with each task's changes (``delta``) applied, from the
    root down to ``task``."""
    tasks = state.get('tasks') or {}
    chain, current, seen = [], task, set()
    while current is not None and current.get('id') not in seen:
        seen.add(current.get('id'))
        chain.append(current)
        current = tasks.get(current.get('parent')) if current.get('parent') else None
    data: dict = {}
    for item in reversed(chain):
        delta = item.get('delta') or {}
        if item.get('parent') is None or not delta:
            data = dict(item.get('data') or {})
            continue
        data.update(delta.get('updates') or {})
        for key in delta.get('deletions') or []:
            data.pop(key, None)
    return _unescape(data)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), OSLO).astimezone(timezone.utc)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- what moves, and how
def _evaluation(bind, row) -> tuple | None:
    """(due_at, start data, key, domain table, domain id) for an evaluation waiting at ``wait_due``."""
    waiting = _tasks(row.state, 'wait_due', WAITING)
    if not waiting:
        return None
    started = task_data(row.state, waiting[0]).get('evaluation')
    evaluation_id = _int(started.get('evaluation_id')) if isinstance(started, dict) else None
    found = bind.execute(sa.select(evaluations.c.kind, evaluations.c.due_on, evaluations.c.status).where(
        evaluations.c.id == evaluation_id, evaluations.c.case_id == row.case_id)).first()
    if found is None or found.status != 'scheduled':
        return None
    due_at = row.next_due_at or _midnight(found.due_on)
    data = {'evaluation': {'evaluation_id': evaluation_id, 'kind': found.kind, 'due_on': found.due_on.isoformat()}}
    return due_at, data, f'evaluation:{evaluation_id}', evaluations, evaluation_id


def _transition_review(bind, row) -> tuple | None:
    """... for a transition review waiting at its first timer ``wait_review``."""
    waiting = _tasks(row.state, 'wait_review', WAITING)
    if not waiting:
        return None
    started = task_data(row.state, waiting[0])
    transition_id = _int(started.get('transition_id'))
    found = bind.execute(sa.select(transitions.c.review_from, transitions.c.status).where(
        transitions.c.id == transition_id, transitions.c.case_id == row.case_id)).first()
    if found is None or found.status != 'planned':
        return None
    due_at = row.next_due_at or _midnight(found.review_from)
    data = {'transition_id': transition_id, 'transition_title': started.get('transition_title') or ''}
    return due_at, data, f'transition:{transition_id}', transitions, transition_id


def _meeting(bind, row, lead: timedelta, now: datetime) -> tuple | None:
    """... for a meeting still at its very first step whose planning is not due yet."""
    tasks = [t for t in (row.state.get('tasks') or {}).values() if isinstance(t, dict)]
    plan = _tasks(row.state, 'plan', READY)
    done = {t.get('task_spec') for t in tasks if _is(t, COMPLETED)}
    if len(plan) != 1 or not done <= {'Start', 'start', 'begin'}:
        return None  # planning has begun (or the state is not the shape we know)
    started = task_data(row.state, plan[0])
    meeting_id = _int(started.get('meeting_id'))
    found = bind.execute(sa.select(meetings.c.starts_at, meetings.c.status).where(
        meetings.c.id == meeting_id, meetings.c.case_id == row.case_id)).first()
    if found is None or found.status != 'planned' or found.starts_at is None:
        return None
    due_at = _midnight(found.starts_at.astimezone(OSLO).date() - lead)
    if due_at <= now:
        return None  # planning is due anyway: the instance stays
    keys = ('meeting_id', 'is_first_meeting', 'duration_minutes', 'meeting_date', 'minute_taker_member_id')
    data = {k: started[k] for k in keys if k in started}
    return due_at, data, f'meeting:{meeting_id}', meetings, meeting_id


def _setting(bind, key: str) -> int:
    value = bind.execute(sa.select(settings.c.value).where(settings.c.key == key)).scalar()
    return _int(value) if _int(value) is not None else SETTING_DEFAULTS[key]


def move_waiting_instances(bind, now: datetime) -> int:
    """Turn the waiting instances into scheduled starts; returns how many moved."""
    lead = timedelta(days=_setting(bind, 'notice_days') + _setting(bind, 'meeting_planning_days'))
    candidates = bind.execute(
        sa.select(instances.c.id, definitions.c.process_id)
        .join(definitions, definitions.c.id == instances.c.definition_id)
        .where(instances.c.status == 'running',
               definitions.c.process_id.in_(('evaluation', 'transition_review', 'meeting')))
        .order_by(instances.c.id)).all()
    moved = 0
    for start in range(0, len(candidates), BATCH):
        batch = dict(candidates[start:start + BATCH])
        rows = bind.execute(sa.select(instances.c.id, instances.c.case_id, instances.c.state,
                                      instances.c.next_due_at)
                            .where(instances.c.id.in_(list(batch)))).all()
        for row in rows:
            if not isinstance(row.state, dict):
                continue
            process_id = batch[row.id]
            if process_id == 'evaluation':
                found = _evaluation(bind, row)
            elif process_id == 'transition_review':
                found = _transition_review(bind, row)
            else:
                found = _meeting(bind, row, lead, now)
            if found is None:
                continue
            _move(bind, row, process_id, *found, now=now)
            moved += 1
    return moved


def _move(bind, row, process_id: str, due_at: datetime, data: dict, key: str, domain: sa.TableClause,
          domain_id: int, *, now: datetime) -> None:
    scheduled_id = bind.execute(scheduled_starts.insert().values(
        case_id=row.case_id, process_id=process_id, due_at=due_at, data=data, key=key, status='pending',
        created_at=now)).inserted_primary_key[0]
    bind.execute(instances.update().where(instances.c.id == row.id).values(
        status='cancelled', status_reason=REASON, next_due_at=None, updated_at=now, completed_at=now,
        lock_version=instances.c.lock_version + 1))
    bind.execute(open_tasks.delete().where(open_tasks.c.instance_id == row.id))
    bind.execute(domain.update().where(domain.c.id == domain_id, domain.c.instance_id == row.id)
                 .values(instance_id=None))
    bind.execute(audit_events.insert().values(
        case_id=row.case_id, instance_id=row.id, actor_id=None, kind='instance_cancelled', created_at=now,
        detail={'reason': REASON, 'title': f'Prosess avbrutt: {REASON}', 'scheduled_start_id': scheduled_id,
                'process': process_id, 'due_at': due_at.isoformat(), 'key': key}))
