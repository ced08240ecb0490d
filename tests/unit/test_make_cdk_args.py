"""`make synth` / `make deploy` pass the CDK app's context (`-c stage=prod`, `-c alarmEmail=...`) through
`CDK_ARGS`, and the docs say so: make takes no `-c`, so the docs' former `make deploy` with `-c ...` stopped
at "make: invalid option -- 'c'" (issue 10: the docs' examples run as written)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _dry_run(*args: str) -> list[str]:
    """The commands `make <args>` would run on a fresh clone (-B: as if nothing were built; -n: print only)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("target", ["synth", "deploy"])
def test_cdk_args_reach_the_cdk_cli(target: str) -> None:
    commands = _dry_run(target, "CDK_ARGS=-c stage=prod -c alarmEmail=ops@example.com")
    cdk = [line for line in commands if line.startswith(f"node_modules/.bin/cdk {target}")]
    assert len(cdk) == 1
    assert cdk[0].endswith("-c stage=prod -c alarmEmail=ops@example.com")


def test_without_cdk_args_the_cli_runs_as_before() -> None:
    assert "node_modules/.bin/cdk deploy" in [line.rstrip() for line in _dry_run("deploy")]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_never_hand_make_a_cdk_option(doc: Path) -> None:
    # A `make synth|deploy` with a CDK option beside it, on one line, must pass it through CDK_ARGS
    wrong = [
        line
        for line in doc.read_text().splitlines()
        if re.search(r"make (synth|deploy)\b", line) and re.search(r"(^|\s|`)-c\s", line) and "CDK_ARGS" not in line
    ]
    assert wrong == []
