import pytest

from tests.webapp.cases.helpers import establish
from tests.webapp.transitions.helpers import BORN, town


@pytest.fixture
def users(services):
    return town(services)


@pytest.fixture
def case_id(services, users):
    """The group of a child born 10 March 2021, active from 12 January 2026."""
    return establish(services, users, born=BORN)
