"""One synth for the whole infra suite: `python app.py` exactly as the CDK CLI runs it, without AWS
credentials, with cdk.json's context (feature flags) and a tiny stand-in for the layer.

Synthesising costs ~15 s here (jsii + cdk-nag), so every test reads the same cloud assembly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK_NAME = "BookingHub-test"
SYNTH_TIMEOUT_SECONDS = 240

# jsii prints a banner on every start on this machine's Node 20 (end-of-life for jsii since 2026-10-30).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@dataclass(frozen=True)
class Assembly:
    outdir: Path
    manifest: dict[str, Any]
    template: dict[str, Any]
    messages: list[tuple[str, str, str]]  # (type, construct path, text) of errors/warnings/infos

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_}

    def props(self, logical_id: str) -> dict[str, Any]:
        return dict(self.template["Resources"][logical_id].get("Properties", {}))


def credential_free_env(**extra: str) -> dict[str, str]:
    """This process's environment without any way to reach AWS credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "common" / "python"), str(ROOT)]),
    )
    env.update(extra)
    return env


def make_layer_stub(directory: Path) -> Path:
    (directory / "python" / "bookinghub").mkdir(parents=True)
    (directory / "python" / "bookinghub" / "__init__.py").write_text('"""layer stand-in for infra tests"""\n')
    return directory


def _messages(outdir: Path, manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    artifact = manifest["artifacts"][STACK_NAME]
    metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
    # Newer CDK versions move the metadata into <stack>.metadata.json.
    metadata_file = outdir / f"{STACK_NAME}.metadata.json"
    if metadata_file.is_file():
        metadata.update(json.loads(metadata_file.read_text()))
    kinds = {"aws:cdk:error", "aws:cdk:warning", "aws:cdk:info"}
    return [
        (e["type"], path, str(e["data"])) for path, entries in metadata.items() for e in entries if e["type"] in kinds
    ]


@dataclass(frozen=True)
class SynthRun:
    process: subprocess.CompletedProcess[str]
    env: dict[str, str]
    outdir: Path


@pytest.fixture(scope="session")
def synth_run(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    outdir = tmp_path_factory.mktemp("cdk.out")
    layer = make_layer_stub(tmp_path_factory.mktemp("layer"))
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["stage"] = STACK_NAME.removeprefix("BookingHub-")
    env = credential_free_env(
        CDK_OUTDIR=str(outdir),
        CDK_CONTEXT_JSON=json.dumps(context),  # what the CLI hands the app from cdk.json and -c
        HUB_LAYER_DIR=str(layer),
    )
    process = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_SECONDS,
        check=False,
    )
    return SynthRun(process, env, outdir)


@pytest.fixture(scope="session")
def assembly(synth_run: SynthRun) -> Assembly:
    process = synth_run.process
    assert process.returncode == 0, f"app.py failed:\n{process.stdout}\n{process.stderr}"
    manifest = json.loads((synth_run.outdir / "manifest.json").read_text())
    template_file = manifest["artifacts"][STACK_NAME]["properties"]["templateFile"]
    template = json.loads((synth_run.outdir / template_file).read_text())
    return Assembly(synth_run.outdir, manifest, template, _messages(synth_run.outdir, manifest))
