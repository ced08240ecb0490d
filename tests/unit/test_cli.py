"""The operator CLI: `bookinghub token` prints a token the local gateway accepts; `rooms` reads locally."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import LOCAL_ENV, local_environment, main
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


# --- Failures to reach AWS or the stack: one line on stderr, an exit code, no traceback -------------


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bookinghub: ")
    return lines[0]


@pytest.fixture
def no_aws_setup(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No region, no credentials anywhere botocore looks (env, files, instance metadata)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        clean_env.delenv(name, raising=False)
    clean_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    clean_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    clean_env.setenv("AWS_EC2_METADATA_DISABLED", "true")
    clean_env.setenv("INTEGRATION_LOGS_TABLE_NAME", "bookinghub-IntegrationLogs")
    clean_env.setenv("BOOKINGS_TABLE_NAME", "bookinghub-Bookings")
    clean_env.delenv(LOCAL_ENV, raising=False)
    return clean_env


def test_a_missing_region_is_one_line_and_exit_2(
    no_aws_setup: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rooms", "status"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no AWS region" in line
    assert "AWS_DEFAULT_REGION" in line
    assert "--local" in line


def test_missing_credentials_are_one_line_and_exit_2(
    no_aws_setup: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_aws_setup.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert main(["beds24", "properties"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no AWS credentials" in line


def test_migrate_watches_without_a_region_or_credentials_is_one_line_and_exit_2(
    no_aws_setup: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["realtime", "migrate-watches", "--stack", "BookingHub-prod"]) == 2
    assert "no AWS region" in _one_line(capsys.readouterr().err)
    no_aws_setup.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert main(["realtime", "migrate-watches"]) == 2
    assert "no AWS credentials" in _one_line(capsys.readouterr().err)


def test_a_bug_keeps_its_traceback(clean_env: pytest.MonkeyPatch) -> None:
    from bookinghub.rooms.logic import monitoring

    def broken() -> None:
        raise KeyError("a bug, not a failure to reach anything")

    clean_env.setattr(monitoring, "integration_status", broken)
    with pytest.raises(KeyError):
        main(["rooms", "status"])


def test_a_staff_token_without_websites_says_what_it_can_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(auth.KEY_ENV, str(tmp_path / "key.pem"))
    assert main(["token", "--role", "staff"]) == 0
    out, err = capsys.readouterr()
    assert auth.verify_token("Bearer " + out.strip())["custom:websites"] == ""  # stdout: the token only
    line = _one_line(err)
    assert "sees no bookings" in line
    assert "--websites" in line
    # with websites (or another role) nothing is added
    assert main(["token", "--role", "staff", "--websites", "test-website, hanuman-world"]) == 0
    out, err = capsys.readouterr()
    assert auth.verify_token("Bearer " + out.strip())["custom:websites"] == "test-website,hanuman-world"
    assert err == ""
