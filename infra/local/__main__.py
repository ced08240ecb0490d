"""`make run`: the whole hub on this machine, on loopback, until Ctrl-C or SIGTERM.

Settings: HUB_HOST (127.0.0.1), HUB_PORT (3000, the API), HUB_AWS_PORT (5000, moto),
HUB_SANDBOX_PORT (4000, the websites' webhook receiver), or the equivalent flags; HUB_ROOMS_PORT (4100,
the Rooms Event Hub sandbox); HUB_BEDS24_PORT (4200, the Beds24 sandbox); STRIPE_WEBHOOK_SECRET (default:
the local demo value whsec_local_demo_stripe); BEDS24_WEBHOOK_SECRET (default: the local demo value
local-demo-beds24-webhook-secret).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The shared package is a Lambda layer (mounted at /opt/python in Lambda); make it importable the same
# way when this runs as plain `.venv/bin/python -m infra.local`, without the Makefile's PYTHONPATH.
_LAYER = str(Path(__file__).resolve().parents[2] / "layers" / "common" / "python")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
from types import FrameType  # noqa: E402

from infra.local.banner import render  # noqa: E402
from infra.local.runtime import LocalRuntime, RuntimeConfig  # noqa: E402
from infra.local.sandboxes import WEBSITE_RECEIVER  # noqa: E402

log = logging.getLogger("infra.local")


def parse_config(argv: list[str] | None) -> RuntimeConfig:
    defaults = RuntimeConfig.from_env(os.environ)
    parser = argparse.ArgumentParser(prog="python -m infra.local", description="Run the whole hub locally.")
    parser.add_argument("--host", default=defaults.host, help="bind address (HUB_HOST)")
    parser.add_argument("--port", type=int, default=defaults.port, help="API gateway port (HUB_PORT)")
    parser.add_argument("--aws-port", type=int, default=defaults.aws_port, help="moto port (HUB_AWS_PORT)")
    parser.add_argument(
        "--sandbox-port",
        type=int,
        default=defaults.sandbox_ports[WEBSITE_RECEIVER.name],
        help="website receiver port (HUB_SANDBOX_PORT)",
    )
    args = parser.parse_args(argv)
    return RuntimeConfig(
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        sandbox_ports={**defaults.sandbox_ports, WEBSITE_RECEIVER.name: args.sandbox_port},
        region=defaults.region,
        ws_port=defaults.ws_port,
        ws_management_port=defaults.ws_management_port,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_config(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # moto's server would log every AWS call, botocore every client it creates
    for noisy in ("werkzeug", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            os._exit(1)  # a second Ctrl-C: stop waiting for a clean shutdown
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    runtime = LocalRuntime(config)
    try:
        runtime.start()
    except Exception as error:
        log.error("the local hub could not start: %s", error, exc_info=not isinstance(error, OSError))
        return 1
    try:
        if not stop.is_set():
            print(render(runtime.banner_info()), flush=True)
        while not stop.wait(0.5):
            pass
        log.info("stopping")
    finally:
        runtime.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
