"""Imports every model so metadata is complete (Alembic, tests)."""
from webapp.db import Base  # noqa: F401
from webapp.auth.models import LoginAttempt, User  # noqa: F401
from webapp.cases.models import (  # noqa: F401
    Case, CaseMember, CaseStatusChange, Consent, CoordinatorAppointment, Person, Unit,
)
from webapp.audit.models import AccessLogEntry, AuditEvent  # noqa: F401
from webapp.engine.models import (  # noqa: F401
    Incident, OpenTask, ProcessDefinition, ProcessInstance, ScheduledStart,
)
from webapp.outbox.models import OutboxMessage  # noqa: F401
from webapp.settings.models import Setting  # noqa: F401
from webapp.meetings.models import (  # noqa: F401
    Attendance, Matter, Measure, MeasureNote, Meeting, Minutes, MinutesApproval,
)
from webapp.cases.models import CaseClosure  # noqa: F401
from webapp.transitions.models import Transition  # noqa: F401
from webapp.evaluations.models import Evaluation  # noqa: F401
from webapp.deviations.models import Deviation  # noqa: F401
from webapp.workbench.models import MigrationRun, ProcessDraft  # noqa: F401
from webapp.supervision.models import SavedView  # noqa: F401
from webapp.plans.models import Plan, PlanGoal, PlanVersion, RelayHandover  # noqa: F401
