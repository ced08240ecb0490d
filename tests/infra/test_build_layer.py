"""infra/build_layer.py: the right wheels, the package copied, no rebuild when nothing changed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import build_layer


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.14.3\n")
    package = tmp_path / "src" / "bookinghub"
    (package / "dal").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "dal" / "aws.py").write_text("CLIENTS = {}\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    return requirements, package


class FakePip:
    def __init__(self) -> None:
        self.calls: list[tuple[Path, Path]] = []

    def __call__(self, requirements: Path, target: Path) -> None:
        self.calls.append((requirements, target))
        (target / "pydantic").mkdir(parents=True)
        (target / "pydantic" / "__init__.py").write_text("")
        (target / "bin").mkdir()
        (target / "bin" / "some-script").write_text("#!/usr/bin/python\n")


def _build(out: Path, inputs: tuple[Path, Path], pip: Any, compiler: Any = lambda site: False) -> bool:
    requirements, package = inputs
    return build_layer.build(out, requirements=requirements, package_dir=package, installer=pip, compiler=compiler)


def test_builds_layer_with_dependencies_and_package(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    pip = FakePip()
    out = tmp_path / "build" / "layer"
    assert _build(out, inputs, pip) is True
    site = out / "python"
    assert pip.calls == [(inputs[0], out.with_name("layer.staging") / "python")]
    assert (site / "pydantic" / "__init__.py").is_file()
    assert (site / "bookinghub" / "dal" / "aws.py").read_text() == "CLIENTS = {}\n"
    assert not (site / "bookinghub" / "__pycache__").exists()
    assert not (site / "bin").exists()
    assert not out.with_name("layer.staging").exists()
    # The stamp is beside the asset directory so it never changes the layer's asset hash.
    assert build_layer.stamp_path(out).is_file()
    assert not list(out.glob("*.sha256"))


def test_skips_when_inputs_are_unchanged(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    pip = FakePip()
    out = tmp_path / "layer"
    _build(out, inputs, pip)
    assert _build(out, inputs, pip) is False
    assert len(pip.calls) == 1


@pytest.mark.parametrize("change", ["requirements", "package"])
def test_rebuilds_when_an_input_changes(tmp_path: Path, inputs: tuple[Path, Path], change: str) -> None:
    pip = FakePip()
    out = tmp_path / "layer"
    _build(out, inputs, pip)
    requirements, package = inputs
    if change == "requirements":
        requirements.write_text("pydantic==2.14.4\n")
    else:
        (package / "dal" / "aws.py").write_text("CLIENTS = {'x': 1}\n")
    assert _build(out, inputs, pip) is True
    assert len(pip.calls) == 2
    assert (out / "python" / "bookinghub" / "dal" / "aws.py").read_text() == (package / "dal" / "aws.py").read_text()


def test_failed_build_keeps_the_old_layer_and_is_retried(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    out = tmp_path / "layer"
    _build(out, inputs, FakePip())
    inputs[0].write_text("pydantic==9.9.9\n")

    def broken_pip(requirements: Path, target: Path) -> None:
        raise subprocess.CalledProcessError(1, ["pip"])

    with pytest.raises(subprocess.CalledProcessError):
        _build(out, inputs, broken_pip)
    assert (out / "python" / "pydantic" / "__init__.py").is_file()
    retry = FakePip()
    assert _build(out, inputs, retry) is True
    assert len(retry.calls) == 1


def test_pip_fetches_linux_arm64_cp313_binary_wheels(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(build_layer.subprocess, "run", lambda command, check: seen.append(command))
    build_layer.pip_install(tmp_path / "requirements.txt", tmp_path / "python")
    (command,) = seen
    flags = " ".join(command)
    assert "--platform manylinux2014_aarch64" in flags
    assert "--implementation cp" in flags
    assert "--python-version 3.13" in flags
    assert "--only-binary=:all:" in command
    assert f"--target {tmp_path / 'python'}" in flags
    assert f"-r {tmp_path / 'requirements.txt'}" in flags


def test_the_built_layer_is_compiled_for_its_runtime(tmp_path: Path, inputs: tuple[Path, Path]) -> None:
    compiled: list[Path] = []

    def compiler(site: Path) -> bool:
        compiled.append(site)
        return True

    out = tmp_path / "layer"
    _build(out, inputs, FakePip(), compiler=compiler)
    # compiled in staging, after the package and its document are in place
    assert compiled == [out.with_name("layer.staging") / "python"]


@pytest.mark.skipif(build_layer.target_python() is None, reason="no CPython 3.13 on this machine")
def test_bytecode_is_for_cpython_313_and_used_without_the_source_mtime(tmp_path: Path) -> None:
    site = tmp_path / "python"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    assert build_layer.compile_for_target(site) is True
    (pyc,) = (site / "pkg" / "__pycache__").iterdir()
    assert pyc.name == "__init__.cpython-313.pyc"
    header = pyc.read_bytes()[:8]
    magic_313 = subprocess.run(
        [
            str(build_layer.target_python()),
            "-c",
            "import importlib.util as u, sys; sys.stdout.buffer.write(u.MAGIC_NUMBER)",
        ],
        capture_output=True,
        check=True,
    ).stdout
    assert header[:4] == magic_313
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, unchecked: no stat of the source


def test_no_target_interpreter_means_no_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_layer, "target_python", lambda: None)
    site = tmp_path / "python"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    assert build_layer.compile_for_target(site) is False
    assert not list(site.rglob("*.pyc"))  # never this machine's (wrong-version) bytecode
