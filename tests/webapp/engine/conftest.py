from __future__ import annotations

import pytest

from tests.conftest import deploy_test_diagrams


@pytest.fixture
def deployed(services):
    """The app's services with the test diagrams (tests/diagrams) deployed."""
    deploy_test_diagrams(services)
    return services
