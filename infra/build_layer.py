"""Build the shared Lambda layer without Docker: `make layer` (python -m infra.build_layer).

pip downloads the Linux arm64 / CPython 3.13 wheels of layers/common/requirements.txt (binary wheels
only, so nothing is compiled for this machine by mistake) into build/layer/python, then the
`bookinghub` package is copied next to them. Lambda mounts a layer at /opt, and /opt/python is on the
runtime's sys.path. A stamp holding the digest of every input skips the work when nothing changed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
PACKAGE_DIR = ROOT / "layers" / "common" / "python" / "bookinghub"
OUT_DIR = ROOT / "build" / "layer"

# The Lambda runtime the layer is built for; infra/cdk/functions.py deploys exactly this runtime.
PYTHON_VERSION = "3.13"
ARCHITECTURE = "arm64"
PLATFORM = "manylinux2014_aarch64"

Installer = Callable[[Path, Path], None]  # (requirements file, target dir)


def pip_install(requirements: Path, target: Path) -> None:
    """Install the wheels Lambda needs (not this machine's) into `target`."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # .pyc for this machine's Python would be useless on 3.13
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell


def _package_files(package_dir: Path) -> list[Path]:
    return sorted(
        p for p in package_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


# What the API document in the layer is generated from, besides the package: the routes and handlers
DOCUMENT_SOURCES = (ROOT / "infra" / "topology", ROOT / "infra" / "openapi.py", ROOT / "functions")


def inputs_digest(requirements: Path = REQUIREMENTS, package_dir: Path = PACKAGE_DIR) -> str:
    """Digest of everything that decides the layer: this build script, the requirements, the package
    sources, and what the API document is generated from."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())  # how the layer is built (platform, pip flags, cleanup)
    digest.update(requirements.read_bytes())
    for path in _package_files(package_dir):
        digest.update(b"\0" + path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for source in DOCUMENT_SOURCES:
        for path in [source] if source.is_file() else _package_files(source):
            digest.update(b"\0" + path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def write_api_document(package_copy: Path) -> None:
    """The whole API's OpenAPI document, served by GET /api/openapi.json (infra/openapi.py)."""
    from infra.openapi import write_document

    write_document(package_copy)


def stamp_path(out_dir: Path) -> Path:
    # Beside the asset directory, not in it: the stamp must not change the layer's asset hash.
    return out_dir.with_name(out_dir.name + ".sha256")


def build(
    out_dir: Path = OUT_DIR,
    *,
    requirements: Path = REQUIREMENTS,
    package_dir: Path = PACKAGE_DIR,
    installer: Installer = pip_install,
    force: bool = False,
    document: Callable[[Path], None] = write_api_document,
) -> bool:
    """Build the layer into `out_dir` (containing `python/`). Returns False when it was already current."""
    digest = inputs_digest(requirements, package_dir)
    stamp = stamp_path(out_dir)
    if not force and (out_dir / "python").is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        return False

    # Build beside the old layer and swap at the end, so an interrupted build never leaves a half layer
    # that a stale stamp would declare current.
    staging = out_dir.with_name(out_dir.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    site = staging / "python"
    site.mkdir(parents=True)
    installer(requirements, site)
    # Console scripts point at this machine's interpreter and are never run from a layer.
    shutil.rmtree(site / "bin", ignore_errors=True)
    shutil.copytree(package_dir, site / package_dir.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    document(site / package_dir.name)

    stamp.unlink(missing_ok=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    stamp.write_text(digest + "\n")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    force = "--force" in args
    rebuilt = build(force=force)
    where = OUT_DIR.relative_to(ROOT)
    print(f"layer built in {where}" if rebuilt else f"layer in {where} is up to date (inputs unchanged)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
