import pytest

from tests.webapp.cases.helpers import establish, municipality


@pytest.fixture
def users(services):
    return municipality(services)


@pytest.fixture
def case_id(services, users):
    """An active group whose first meeting is waiting to be planned."""
    return establish(services, users, until="active")
