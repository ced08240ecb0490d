"""The shape of the code, kept by a test: who may import the AWS SDK and who may talk HTTP.

House rule (issue 9): only a domain's `dal/` and `bookinghub/aws/` touch AWS (boto3/botocore), only
`adapters/` and `client/` talk HTTP to providers; handlers under functions/ are thin and import neither.
Read with `ast` (no import, no new dependency), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers/common/python/bookinghub"
FUNCTIONS = ROOT / "functions"

AWS_SDK = ("boto3", "botocore")
HTTP = ("requests", "urllib3", "httpx", "http.client", "urllib.request")


def imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from ... import` names, at any depth (relative imports excluded)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def uses(modules: set[str], roots: tuple[str, ...]) -> set[str]:
    return {m for m in modules if any(m == root or m.startswith(root + ".") for root in roots)}


def may_use_aws(relative: Path) -> bool:
    """bookinghub/aws/* and any bookinghub/<domain>/dal/*."""
    return relative.parts[0] == "aws" or "dal" in relative.parts[:-1]


def may_use_http(relative: Path) -> bool:
    """Any bookinghub/<domain>/adapters/* or client/*."""
    return bool({"adapters", "client"} & set(relative.parts[:-1]))


def file_violations(relative: Path, source: str, *, in_package: bool) -> list[str]:
    """What the file imports against the rule; `relative` is its path under the package (or functions/)."""
    modules = imported_modules(source)
    aws, http = uses(modules, AWS_SDK), uses(modules, HTTP)
    found = []
    if aws and not (in_package and may_use_aws(relative)):
        found.append(f"{relative.as_posix()}: {sorted(aws)}")
    if http and not (in_package and may_use_http(relative)):
        found.append(f"{relative.as_posix()}: {sorted(http)}")
    return found


def violations(root: Path, files: list[Path]) -> list[str]:
    return [
        problem
        for path in files
        for problem in file_violations(path.relative_to(root), path.read_text(), in_package=root == PACKAGE)
    ]


def test_only_dal_and_aws_import_the_aws_sdk_and_only_adapters_and_clients_talk_http() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50  # the package is where we think it is
    assert violations(PACKAGE, files) == []


def test_handlers_import_neither_the_aws_sdk_nor_an_http_client() -> None:
    files = sorted(FUNCTIONS.glob("*/handler.py"))
    assert files
    assert violations(FUNCTIONS, files) == []


@pytest.mark.parametrize(
    ("relative", "source", "caught"),
    [
        ("bookings/logic/sync.py", "import boto3", True),
        ("bookings/logic/sync.py", "def f():\n    from botocore.exceptions import ClientError", True),  # lazy too
        ("bookings/dal/bookings.py", "from botocore.exceptions import ClientError", False),
        ("aws/clients.py", "import boto3", False),
        ("core/urls.py", "import requests", True),
        ("delivery/logic/dispatch.py", "import http.client", True),
        ("delivery/adapters/http.py", "import requests", False),
        ("beds24/client/http.py", "from requests.adapters import HTTPAdapter", False),
        ("beds24/dal/queues.py", "import requests", True),  # a dal talks to AWS, not to providers
        ("bookings/logic/sync.py", "from urllib.parse import urlsplit", False),  # parsing is not talking
    ],
)
def test_the_rule_catches_what_it_should(relative: str, source: str, caught: bool) -> None:
    assert bool(file_violations(Path(relative), source, in_package=True)) is caught


def test_a_handler_importing_boto3_is_caught() -> None:
    source = "from typing import Any\nimport boto3\n"
    assert file_violations(Path("some_function/handler.py"), source, in_package=False) == [
        "some_function/handler.py: ['boto3']"
    ]
