"""The operator CLI: `bookinghub token` prints a token the local gateway accepts; `rooms` reads locally."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import local_environment, main
from infra.local import auth

ROOT = Path(__file__).resolve().parents[2]


def test_token_command_prints_a_token_the_gateway_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(auth.KEY_ENV, str(tmp_path / "key.pem"))
    assert main(["token", "--role", "staff", "--websites", "a,b", "--email", "t@x.io", "--ttl", "600"]) == 0
    claims = auth.verify_token("Bearer " + capsys.readouterr().out.strip())
    assert (claims["cognito:groups"], claims["custom:websites"], claims["email"]) == ("staff", "a,b", "t@x.io")
    assert claims["custom:organisation_id"] == "demo-org"


def test_token_command_rejects_a_bad_ttl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(auth.KEY_ENV, str(tmp_path / "key.pem"))
    assert main(["token", "--role", "admin", "--ttl", "0"]) == 2
    assert "ttl" in capsys.readouterr().err


def test_unknown_role_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--role", "owner"])
    assert exited.value.code == 2


def test_runs_as_python_m_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"PATH": "/usr/bin:/bin", auth.KEY_ENV: str(tmp_path / "key.pem")}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "token", "--role", "superadmin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = result.stdout.strip()
    assert token.count(".") == 2
    monkeypatch.setenv(auth.KEY_ENV, env[auth.KEY_ENV])
    assert auth.verify_token(token)["cognito:groups"] == "superadmin"


def test_local_environment_points_at_make_run() -> None:
    env = local_environment({"HUB_AWS_PORT": "5055"})
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5055"
    assert env["BOOKINGS_TABLE_NAME"] == "bookinghub-Bookings"
    assert env["INTEGRATION_LOGS_TABLE_NAME"] == "bookinghub-IntegrationLogs"
    assert json.dumps(env)  # plain strings only
