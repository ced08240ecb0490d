"""The requirement sets: `make run` installs only what running needs, `make test` and `make synth` the
rest, every pin is exact, and no file reaches outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common" / "requirements.txt"
RUN = ROOT / "requirements.txt"
INFRA = ROOT / "requirements-infra.txt"
DEV = ROOT / "requirements-dev.txt"
CDK = {"aws-cdk-lib", "constructs", "cdk-nag"}
TOOLING = {"pytest", "pytest-timeout", "pytest-xdist", "schemathesis", "hypothesis", "ruff", "mypy", "standardwebhooks"}
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(\[[A-Za-z0-9,._-]+\])?==[0-9][A-Za-z0-9.]*$")


def packages(path: Path) -> set[str]:
    """The package names a requirements file installs, following its `-r` includes."""
    names: set[str] = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            included = (path.parent / line[3:].strip()).resolve()
            assert included.is_relative_to(ROOT), f"{path.name} includes {included}, outside the repository"
            names |= packages(included)
            continue
        pinned = _PIN.match(line)
        assert pinned, f"{path.name}: {line!r} is not an exact pin"
        names.add(pinned["name"].lower())
    return names


def test_the_run_set_is_what_running_needs_and_nothing_more() -> None:
    run = packages(RUN)
    assert packages(LAYER) <= run
    assert {"moto", "werkzeug", "pyjwt", "flask", "jsonpath-ng"} <= run
    assert not run & (CDK | TOOLING)


def test_the_infra_and_dev_sets_add_the_cdk_and_the_tooling() -> None:
    assert packages(INFRA) == packages(RUN) | CDK
    assert packages(DEV) == packages(INFRA) | TOOLING


def test_the_embedded_aws_takes_only_the_services_it_runs() -> None:
    # moto[server] would bring every service's dependencies (cfn-lint, sympy, ...: ~150 MB)
    assert re.search(r"^moto\[dynamodb,dynamodbstreams\]==", RUN.read_text(), re.MULTILINE)


@pytest.mark.parametrize("path", [LAYER, RUN, INFRA, DEV], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_requirements_file_points_outside_the_repository(path: Path) -> None:
    assert "../" not in path.read_text()


def _dry_run(target: str) -> str:
    """What `make <target>` would run on a fresh clone (-B: as if nothing were installed; -n: print only)."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # --no-print-directory: under `make test` this make is a sub-make, which would announce its directory
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_run_installs_only_the_run_set() -> None:
    commands = _dry_run("run")
    assert "pip install -r requirements.txt" in commands
    assert "requirements-dev.txt" not in commands
    assert "requirements-infra.txt" not in commands
    assert "--quiet" not in commands  # pip's own progress is shown
    assert commands.rstrip().endswith("-m infra.local")


def test_make_test_and_make_synth_add_their_sets() -> None:
    assert "pip install -r requirements-dev.txt" in _dry_run("test")
    synth = _dry_run("synth")
    assert "pip install -r requirements-infra.txt" in synth
    assert "requirements-dev.txt" not in synth
