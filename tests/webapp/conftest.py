"""Fixtures for domain tests: a small municipality and an active group."""
import pytest

from tests.webapp.cases.helpers import establish, municipality


@pytest.fixture
def users(services):
    return municipality(services)


@pytest.fixture
def case_id(services, users):
    """An active group whose first meeting is waiting to be planned (its evaluation cycle and
    transition reviews wait on their timers)."""
    return establish(services, users, until="active")
