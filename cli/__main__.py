"""`python -m cli` (installed as `.venv/bin/bookinghub` by `make install-run`, so by `make run`)."""

from __future__ import annotations

import sys

from cli.main import main

if __name__ == "__main__":
    sys.exit(main())
