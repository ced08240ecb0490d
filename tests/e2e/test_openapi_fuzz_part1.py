"""Part 1 of openapi_fuzz.PARTS of the OpenAPI fuzz (tests/e2e/openapi_fuzz.py says what it checks and why
it is split): a file of its own, so pytest-xdist runs it on a worker of its own, with its own local stack."""

from __future__ import annotations

import pytest

from infra import topology
from tests.e2e import openapi_fuzz
from tests.e2e.openapi_fuzz import Target, target

pytestmark = pytest.mark.e2e
__all__ = ["target"]  # the module-scoped fixture: the local stack this part's runs share
RUNS = openapi_fuzz.runs_of_part(0)


@pytest.mark.parametrize(("route", "real_ids"), RUNS, ids=openapi_fuzz.run_ids(RUNS))
def test_no_operation_answers_5xx(target: Target, route: topology.Route, real_ids: bool) -> None:
    openapi_fuzz.check_no_5xx(target, route, real_ids)


def test_the_parts_are_one_file_each_and_cover_every_run_once() -> None:
    """A part file added or removed without PARTS changed would drop runs silently (or test some twice)."""
    from pathlib import Path

    files = sorted(path.name for path in Path(__file__).parent.glob("test_openapi_fuzz_part*.py"))
    assert files == [f"test_openapi_fuzz_part{k + 1}.py" for k in range(openapi_fuzz.PARTS)]
    parts = [run for part in range(openapi_fuzz.PARTS) for run in openapi_fuzz.runs_of_part(part)]
    assert sorted(map(id, parts)) == sorted(map(id, openapi_fuzz.RUNS))
