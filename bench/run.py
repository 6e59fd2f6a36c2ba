"""Run every benchmark under ``bench/`` and write the results table (``make bench``).

Usage: ``.venv/bin/python bench/run.py [NAME ...] [--timeout SECONDS] [--out DIR]``

Each ``bench/*.py`` script (except this one and helpers whose names start with ``_``) runs in
its own process with ``--json PATH`` and a time limit; the convention is in ``bench/_report.py``.
A script that writes no JSON still gets a row, with the last lines it printed. The table, with
the machine it was measured on, goes to ``bench/results.md`` and ``bench/results.json`` and is
printed at the end. The exit status is non-zero if any benchmark failed or timed out.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _report import ROOT, machine

BENCH = ROOT / "bench"
DEFAULT_TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "1500"))


def discover(names: list[str]) -> list[Path]:
    scripts = sorted(p for p in BENCH.glob("*.py")
                     if p.name != "run.py" and not p.name.startswith("_"))
    if names:
        wanted = {n.removesuffix(".py") for n in names}
        unknown = wanted - {p.stem for p in scripts}
        if unknown:
            sys.exit(f"no such benchmark: {', '.join(sorted(unknown))}")
        scripts = [p for p in scripts if p.stem in wanted]
    return scripts


def _stream(process: subprocess.Popen[str], tail: deque[str], prefix: str) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        tail.append(line.rstrip("\n"))
        print(f"{prefix} {line}", end="", flush=True)


def run_one(script: Path, timeout: int, extra_args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="candor-bench-") as tmp:
        json_path = Path(tmp) / "figures.json"
        started = time.monotonic()
        tail: deque[str] = deque(maxlen=30)
        command = [sys.executable, str(script), "--json", str(json_path), *extra_args]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        reader = threading.Thread(target=_stream, args=(process, tail, f"[{script.stem}]"))
        reader.start()
        try:
            returncode = process.wait(timeout=timeout)
            status = "ok" if returncode == 0 else f"failed (exit {returncode})"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the script and whatever it started
            process.wait()
            status = f"timed out after {timeout} s"
        reader.join()
        seconds = time.monotonic() - started
        if status.startswith("failed") and any("unrecognized arguments: --json" in line
                                               for line in tail):
            # A script that does not know the convention yet: run it plainly, keep its output.
            return {**run_plain(script, timeout), "seconds": round(seconds, 1)}
        result: dict[str, Any] = {"script": f"bench/{script.name}", "status": status,
                                  "seconds": round(seconds, 1)}
        if json_path.exists():
            try:
                result.update(json.loads(json_path.read_text()))
            except json.JSONDecodeError as error:
                result["status"] = f"{status}; unreadable JSON ({error})"
        if "figures" not in result or status != "ok":
            result["output"] = list(tail)
        return result


def run_plain(script: Path, timeout: int) -> dict[str, Any]:
    try:
        done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
        print(done.stdout, end="")
        status = "ok" if done.returncode == 0 else f"failed (exit {done.returncode})"
        lines = (done.stdout + done.stderr).splitlines()[-30:]
    except subprocess.TimeoutExpired:
        status, lines = f"timed out after {timeout} s", []
    return {"script": f"bench/{script.name}", "status": status, "output": lines}


def _cell(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    else:
        text = str(value)
    return text.replace("|", "\\|")


def markdown(results: dict[str, Any]) -> str:
    lines = ["# Benchmark results", "",
             f"Measured {results['finished']} with `make bench`.", "",
             "| machine | |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in results["machine"].items()]
    lines += ["", "| benchmark | figure | value | goal |", "|---|---|---|---|"]
    for bench in results["benchmarks"]:
        name = bench.get("benchmark") or Path(bench["script"]).stem
        if bench["status"] != "ok":
            lines.append(f"| {name} | **{_cell(bench['status'])}** | | |")
        for figure in bench.get("figures", []):
            value = f"{_cell(figure['value'])} {figure.get('unit', '')}".strip()
            goal = ""
            if figure.get("goal"):
                goal = f"{figure['goal']} ({'met' if figure.get('met') else '**missed**'})"
            lines.append(f"| {name} | {_cell(figure['name'])} | {value} | {goal} |")
        if not bench.get("figures") and bench.get("output"):
            text = "; ".join(line.strip() for line in bench["output"][-6:] if line.strip())
            lines.append(f"| {name} | output | {_cell(text)} | |")
    notes = [(b.get("benchmark") or Path(b["script"]).stem, n)
             for b in results["benchmarks"] for n in b.get("notes", [])]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {name}: {note}" for name, note in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help="seconds each benchmark may take (default %(default)s, or "
                             "BENCH_TIMEOUT)")
    parser.add_argument("--out", type=Path, default=BENCH, help="where results.md/json go")
    options = parser.parse_args()

    scripts = discover(options.names)
    results: dict[str, Any] = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                               "machine": machine(), "benchmarks": []}
    for key, value in results["machine"].items():
        print(f"{key}: {value}")
    for script in scripts:
        print(f"\n=== bench/{script.name}", flush=True)
        results["benchmarks"].append(run_one(script, options.timeout, []))
    results["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (options.out / "results.md").write_text(table)
    print("\n" + table)
    print(f"Written to {options.out / 'results.md'} and {options.out / 'results.json'}")
    if any(b["status"] != "ok" for b in results["benchmarks"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
