"""CDK app: `make synth` / `make deploy` (the CDK CLI runs this file, see cdk.json).

Context: `-c stage=<name>` (default dev; prod turns on deletion and termination protection),
`-c logLevel=DEBUG|INFO|WARN|ERROR` and `-c alarmEmail=ops@example.com` (subscribes that address to the
alarm topic; without it, subscribe to the AlarmTopicArn output yourself). The layer comes from build/layer
(`make layer`); HUB_LAYER_DIR points elsewhere (the infra tests use a tiny stand-in so they stay fast and offline).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_LAYER_DIR = ROOT / "build" / "layer"


def require_layer(layer_dir: Path) -> Path:
    """The layer asset directory, or exit with what to do (before paying for the CDK import)."""
    if not (layer_dir / "python").is_dir():
        sys.exit(f"error: the Lambda layer is not built ({layer_dir / 'python'} is missing): run `make layer` first")
    return layer_dir


def main() -> None:
    layer_dir = require_layer(Path(os.environ.get("HUB_LAYER_DIR", DEFAULT_LAYER_DIR)))

    from aws_cdk import App, Aspects
    from cdk_nag import AwsSolutionsChecks

    from infra.stack import BookingHubStack

    app = App()
    stage = str(app.node.try_get_context("stage") or "dev")
    log_level = str(app.node.try_get_context("logLevel") or "INFO")
    alarm_email = app.node.try_get_context("alarmEmail")
    BookingHubStack(
        app,
        f"BookingHub-{stage}",
        stage=stage,
        layer_asset_dir=layer_dir,
        log_level=log_level,
        alarm_email=str(alarm_email) if alarm_email else None,
        description=f"bookinghub booking-integration hub ({stage})",
        termination_protection=stage == "prod",
    )
    # Any unsuppressed AwsSolutions error fails `cdk synth` (error annotations stop the CLI).
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()


if __name__ == "__main__":
    main()
