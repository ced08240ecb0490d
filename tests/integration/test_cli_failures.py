"""The CLI against a stack that is down: a refused connection is one readable line and exit 1, not a
traceback. (Here rather than in tests/unit: it needs a real refused connection on loopback.)"""

from __future__ import annotations

import socket

import pytest

from cli.main import local_environment, main
from tests.unit.test_cli import _one_line


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again on exit: nothing listens there


@pytest.mark.parametrize(
    "command",
    [["rooms", "status", "--local"], ["beds24", "properties", "--local"], ["realtime", "migrate-watches", "--local"]],
)
def test_a_local_stack_that_is_down_is_one_line_and_exit_1(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    port = str(_closed_port())
    # --local rewrites these in os.environ; set through monkeypatch first so they are restored after
    clean_env.setenv("HUB_AWS_PORT", port)
    for name, value in local_environment({"HUB_AWS_PORT": port}).items():
        clean_env.setenv(name, value)
    assert main(command) == 1
    line = _one_line(capsys.readouterr().err)
    assert f"http://127.0.0.1:{port}" in line
    assert "`make run`" in line


def test_an_unreachable_http_service_is_one_line_and_exit_1(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import requests

    from bookinghub.rooms.logic import monitoring

    def refused() -> None:
        requests.get(f"http://127.0.0.1:{_closed_port()}/v1/status", timeout=2)

    clean_env.setattr(monitoring, "integration_status", refused)
    assert main(["rooms", "status"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "cannot reach http://127.0.0.1:" in line
