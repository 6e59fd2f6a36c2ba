"""Build the reporter's client wheel: ``python clients/reporter/build.py [DIST]``.

The client's sources live where the server uses them (``candor_reporter/`` and ``crypto/`` at
the repository's root), so this copies them beside this folder's ``pyproject.toml`` in a
temporary folder and builds the wheel there with the setuptools already installed (no network).
"""

from __future__ import annotations

import shutil
import subprocess  # nosec B404
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGES = ("candor_reporter", "crypto")
VERSION = "0.1.0"  # as pyproject.toml beside this file


def build(dist: Path) -> Path:
    """The wheel built into ``dist``."""
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(HERE / name, source / name)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, source / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        before = set(dist.glob("candor_reporter-*.whl"))
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                   "--no-build-isolation", "--wheel-dir", str(dist), str(source)]
        # Our own interpreter's pip with fixed arguments, and no shell.
        subprocess.run(command, check=True)  # noqa: S603  # nosec B603
    # The wheel just built; the same name as before when an older build of this version was
    # there, which pip replaced.
    built = sorted(set(dist.glob("candor_reporter-*.whl")) - before)
    return built[-1] if built else dist / f"candor_reporter-{VERSION}-py3-none-any.whl"


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"))
