# The same municipality and active group as the meeting tests: Kari coordinates, Siri is a
# member, written consent is in force.
from tests.webapp.meetings.conftest import case_id, users  # noqa: F401
