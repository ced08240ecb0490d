"""app.py and cdk.json: offline synth without credentials, clear failure without a layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import app
from tests.infra.conftest import ROOT, STACK_NAME, SynthRun


def test_synth_ran_without_any_aws_credentials(synth_run: SynthRun) -> None:
    assert not [k for k in synth_run.env if k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE")]
    assert synth_run.env["AWS_SHARED_CREDENTIALS_FILE"] == synth_run.env["AWS_CONFIG_FILE"]
    assert synth_run.process.returncode == 0, synth_run.process.stderr


def test_stack_is_environment_agnostic(synth_run: SynthRun) -> None:
    manifest = json.loads((synth_run.outdir / "manifest.json").read_text())
    assert manifest["artifacts"][STACK_NAME]["environment"] == "aws://unknown-account/unknown-region"
    assert not manifest.get("missing"), "context lookups need AWS credentials"


def test_synth_quiets_the_jsii_node_banner(synth_run: SynthRun) -> None:
    assert "end-of-life" not in synth_run.process.stderr


def test_missing_layer_tells_to_run_make_layer(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        app.require_layer(tmp_path / "layer")
    assert "make layer" in str(exited.value.code)


def test_cdk_json_runs_the_venv_app() -> None:
    config = json.loads((ROOT / "cdk.json").read_text())
    assert config["app"] == ".venv/bin/python app.py"
    assert config["context"]["@aws-cdk/aws-iam:minimizePolicies"] is True
