from __future__ import annotations

import pytest

from tests.live_service import start_service


@pytest.fixture(scope="module")
def live_service(tmp_path_factory):
    service = start_service(tmp_path_factory.mktemp("live"))
    yield service
    service.stop()
