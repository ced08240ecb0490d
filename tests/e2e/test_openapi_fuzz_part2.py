"""Part 2 of openapi_fuzz.PARTS of the OpenAPI fuzz (tests/e2e/openapi_fuzz.py says what it checks and why
it is split): a file of its own, so pytest-xdist runs it on a worker of its own, with its own local stack."""

from __future__ import annotations

import pytest

from infra import topology
from tests.e2e import openapi_fuzz
from tests.e2e.openapi_fuzz import Target, target

pytestmark = pytest.mark.e2e
__all__ = ["target"]  # the module-scoped fixture: the local stack this part's runs share
RUNS = openapi_fuzz.runs_of_part(1)


@pytest.mark.parametrize(("route", "real_ids"), RUNS, ids=openapi_fuzz.run_ids(RUNS))
def test_no_operation_answers_5xx(target: Target, route: topology.Route, real_ids: bool) -> None:
    openapi_fuzz.check_no_5xx(target, route, real_ids)
