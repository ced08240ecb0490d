"""Build the shared Lambda layer without Docker: `make layer` (python -m infra.build_layer).

pip downloads the Linux arm64 / CPython 3.13 wheels of layers/common/requirements.txt (binary wheels
only, so nothing is compiled for this machine by mistake) into build/layer/python, then the
`bookinghub` package is copied next to them. Lambda mounts a layer at /opt, and /opt/python is on the
runtime's sys.path. A stamp holding the digest of every input skips the work when nothing changed.

Everything is then compiled to bytecode by a CPython 3.13 found on this machine (PATH, pyenv, or
BOOKINGHUB_LAYER_PYTHON): without .pyc every cold start compiles the layer's ~1,500 modules again (init
1.6-1.8x slower). They are unchecked-hash .pyc (a layer never changes under its .pyc, and zips do not
keep the mtimes a timestamp check needs). .pyc are version-specific, so with no 3.13 here the layer is
built without them (and says so) rather than with this machine's useless ones.
"""

from __future__ import annotations

import glob
import hashlib
import os
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
Compiler = Callable[[Path], bool]  # (site dir) -> whether bytecode was written


def target_python() -> str | None:
    """A CPython PYTHON_VERSION interpreter on this machine, or None."""
    candidates = [os.environ.get("BOOKINGHUB_LAYER_PYTHON", ""), shutil.which(f"python{PYTHON_VERSION}") or ""]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{PYTHON_VERSION}.*/bin/python3")))
    wanted = f"cpython {PYTHON_VERSION}"
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"]
        try:
            answer = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == wanted:
            return candidate
    return None


def compile_for_target(site: Path) -> bool:
    """Compile `site` to PYTHON_VERSION bytecode (__pycache__/*.cpython-313.pyc) with the target's own
    compileall; False when no such interpreter is here."""
    python = target_python()
    if python is None:
        print(f"no CPython {PYTHON_VERSION} found: the layer ships without .pyc (set BOOKINGHUB_LAYER_PYTHON)")
        return False
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(site)]
    # A module that does not compile on 3.13 (a test fixture, a py2 leftover) is left as source
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed argv, no shell
    return True


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
    compiler: Compiler = compile_for_target,
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
    compiler(site)

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
