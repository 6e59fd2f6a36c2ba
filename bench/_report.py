"""What every benchmark under ``bench/`` shares: its figures and the machine they came from.

The convention ``bench/run.py`` relies on (files starting with ``_`` are helpers, not
benchmarks): a benchmark is a script that prints human-readable lines and, when given
``--json PATH``, also writes its figures there as

    {"benchmark": "name", "title": "what it measures",
     "figures": [{"name": "...", "value": 1.23, "unit": "ms", "goal": "<= 1.2", "met": true,
                  "note": "..."}],
     "notes": ["..."]}

``goal``, ``met`` and ``note`` are optional. A script exits non-zero only when it could not
measure; a missed goal is a figure with ``"met": false``, not a failure. ``Report`` below does
all of this; scripts may also write the JSON themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # scripts import tests.support and app from the checkout
    sys.path.insert(0, str(ROOT))


def arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    return parser


class Report:
    def __init__(self, benchmark: str, title: str) -> None:
        self.data: dict[str, Any] = {"benchmark": benchmark, "title": title, "figures": [],
                                     "notes": []}

    def figure(self, name: str, value: float | int | str, unit: str = "", *,
               goal: str | None = None, met: bool | None = None, note: str | None = None,
               fmt: str = "{:.3g}") -> None:
        item: dict[str, Any] = {"name": name, "value": value, "unit": unit}
        if goal is not None:
            item["goal"] = goal
            item["met"] = met
        if note:
            item["note"] = note
        self.data["figures"].append(item)
        shown = fmt.format(value) if isinstance(value, float) else str(value)
        suffix = f" (goal {goal}: {'met' if met else 'MISSED'})" if goal else ""
        print(f"{name}: {shown} {unit}{suffix}".replace("  ", " "), flush=True)

    def note(self, text: str) -> None:
        self.data["notes"].append(text)
        print(text, flush=True)

    def write(self, path: Path | None) -> None:
        if path is not None:
            path.write_text(json.dumps(self.data, indent=2) + "\n")


# --- the machine ------------------------------------------------------------------------------
def _first_line(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory() -> str:
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    except OSError:
        match = None
    return f"{int(match.group(1)) / 2**20:.1f} GiB" if match else "unknown"


def operating_system() -> str:
    name = platform.system()
    try:
        release = Path("/etc/os-release").read_text()
        match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', release, re.MULTILINE)
        if match:
            name = match.group(1)
    except OSError:
        pass
    return f"{name}, kernel {platform.release()}"


def postgres_version() -> str:
    from tests.support.live_instance import _pg_path

    path = _pg_path()
    binary = shutil.which("postgres", path=path)
    if binary is None:
        return "not installed"
    return _first_line([binary, "--version"]) or "unknown"


def chromium_version() -> str:
    return _first_line(["/usr/bin/chromium", "--version"]) or "not installed"


def machine() -> dict[str, str]:
    return {
        "cpu": cpu_model(),
        "cores": f"{os.cpu_count()} logical",
        "memory": memory(),
        "os": operating_system(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgresql": postgres_version(),
        "chromium": chromium_version(),
    }
