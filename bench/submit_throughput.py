"""Submission throughput of Candor's ``/api/v1/reports`` against a bare Flask + SQLAlchemy insert.

Usage: ``.venv/bin/python bench/submit_throughput.py [--count N] [--clients C] [--rounds R]
[--backend sqlite|postgresql ...] [--json PATH]``

For each database (a SQLite file, and a throwaway PostgreSQL cluster), two servers run under
Candor's own server (``app/server.py``: two processes, requests buffered before a thread runs them,
the same logging): Candor in production mode, and the bare app in ``bench/_bare_app.py`` (parse the
JSON, insert one row, commit, answer 201) on a second database of the same engine. Both get the same
prebuilt bodies: valid encrypted submissions made in this process with ``protocol.build_submission``
(the cheap test KDF parameters; proof of work off on the server, so the figure is the server's work,
not the puzzle's) and sent by ``--clients`` processes over loopback, one connection per request.
Each Candor client carries its reporter cookie and CSRF token from one answer to the next, as a
browser does. Rounds alternate between the two servers, and the median round counts; the ratio
Candor/bare is the figure (goal >= 0.6).
Afterwards every 201 is checked against the rows in the database.

Each round also prints where the CPU went, per request: the two server processes, the client
processes, the PostgreSQL cluster (SQLite works inside the workers), and the rest of the
machine, with how busy the machine was and how much of it waited on the disk. "Rest of the
machine" is other work sharing it: when it is large, the round measured contention, not
Candor. When the machine is not busy, the servers are not short of CPU and the rate is
two workers' latency (CPU plus round trips to the database plus the commit's flush).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _bare_app import create_table
from _report import Report, arguments

from tests.support import live_instance
from tests.support.http_reporter import HttpReporter, prebuild_submissions

GOAL = 0.6


def _client(base_url: str, path: str, bodies: list[bytes], candor: bool,
            start: Any, results: Any) -> None:
    reporter = HttpReporter(base_url)
    if candor:
        reporter.start_session()
    statuses: Counter[int] = Counter()
    start.wait()
    for body in bodies:
        try:
            statuses[reporter.request("POST", path, body).status] += 1
        except OSError:
            statuses[0] += 1
    results.put(dict(statuses))


TICKS = os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int, int]:
    """(busy, iowait, total) clock ticks of every CPU so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return sum(fields) - idle - iowait, iowait, sum(fields)


def process_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(p) for p in out.split()]


def cluster_pids(data: Path) -> list[int]:
    """The PostgreSQL cluster's processes: its postmaster and every backend."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


class CpuUse:
    """Where the CPU went during one round, per request: the server's workers, the client
    processes, the database server (PostgreSQL's processes; SQLite runs inside the workers),
    and the rest of the machine (other work sharing it)."""

    def __init__(self, workers: list[int], database: list[int]) -> None:
        self.workers, self.database = workers, database
        self.start_workers = process_seconds(workers)
        self.start_database = process_seconds(database)
        self.start_clients = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.start_machine = machine_ticks()

    def summary(self, requests: int) -> str:
        workers = process_seconds(self.workers) - self.start_workers
        database = process_seconds(self.database) - self.start_database
        end = resource.getrusage(resource.RUSAGE_CHILDREN)
        clients = (end.ru_utime + end.ru_stime
                   - self.start_clients.ru_utime - self.start_clients.ru_stime)
        busy, iowait, total = (b - a for a, b in zip(self.start_machine, machine_ticks(),
                                                      strict=True))
        other = busy / TICKS - workers - clients - database
        per = 1000 / max(requests, 1)
        return (f"cpu per request: workers {workers * per:.1f} ms, clients {clients * per:.1f}"
                f" ms, database {database * per:.1f} ms, rest of the machine "
                f"{other * per:.1f} ms; machine busy {100 * busy / total:.0f}%, "
                f"iowait {100 * iowait / total:.0f}%")


def blast(base_url: str, path: str, bodies: list[bytes], clients: int,
          candor: bool) -> tuple[float, Counter[int]]:
    """Send ``bodies`` split over ``clients`` processes; returns (201s per second, statuses)."""
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=_client, args=(base_url, path, bodies[i::clients],
                                                       candor, start, results))
                 for i in range(clients)]
    for process in processes:
        process.start()
    time.sleep(0.5)  # every client has its session before the clock starts
    began = time.perf_counter()
    start.set()
    statuses: Counter[int] = Counter()
    for _ in processes:
        statuses.update(results.get())
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    return statuses[201] / elapsed, statuses


def count_rows(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return count


def measure(backend: str, url_for: Any, work: Path, options: Any, report: Report,
            database_pids: Callable[[], list[int]] = list) -> None:
    report.note(f"{backend}: load average before the run "
                f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    candor_url, bare_url = url_for("candor_bench"), url_for("bare_bench")
    instance = live_instance.prepare_instance(work / f"instance-{backend}", candor_url)
    create_table(bare_url)
    per_round = options.count
    total = per_round * options.rounds + options.clients * 4
    with ExitStack() as stack:
        candor = stack.enter_context(live_instance.server(
            live_instance.CANDOR_TARGET, instance.environment(), work / f"candor-{backend}.log"))
        bare_env = {**instance.environment(), "BARE_DATABASE_URL": bare_url}
        bare = live_instance.Server("bench._bare_app:create()", bare_env,
                                      work / f"bare-{backend}.log")
        bare.start(ready_path="/health")
        stack.callback(bare.stop)
        started = time.perf_counter()
        bodies = [p.body for p in prebuild_submissions(HttpReporter(candor.url), total)]
        print(f"{backend}: {total} submissions prebuilt in {time.perf_counter() - started:.1f} s",
              flush=True)
        # Warm up both servers (imports, connection pools) before anything is timed.
        warm, bodies = bodies[:options.clients * 4], bodies[options.clients * 4:]
        blast(candor.url, "/api/v1/reports", warm, options.clients, True)
        blast(bare.url, "/insert", warm, options.clients, False)
        rates: dict[str, list[float]] = {"candor": [], "bare": []}
        statuses: dict[str, Counter[int]] = {"candor": Counter(), "bare": Counter()}
        for round_ in range(options.rounds):
            chunk = bodies[round_ * per_round:(round_ + 1) * per_round]
            for name, server, path in (("bare", bare, "/insert"),
                                       ("candor", candor, "/api/v1/reports")):
                cpu = CpuUse(server.worker_pids(), database_pids())
                rate, seen = blast(server.url, path, chunk, options.clients, name == "candor")
                rates[name].append(rate)
                statuses[name].update(seen)
                print(f"{backend} round {round_ + 1} {name}: {rate:.0f}/s {dict(seen)}; "
                      f"{cpu.summary(sum(seen.values()))}", flush=True)
    candor_rate, bare_rate = statistics.median(rates["candor"]), statistics.median(rates["bare"])
    ratio = candor_rate / bare_rate
    report.figure(f"{backend}: Candor /api/v1/reports", candor_rate, "submissions/s",
                  fmt="{:.0f}")
    report.figure(f"{backend}: bare Flask + SQLAlchemy insert", bare_rate, "inserts/s",
                  fmt="{:.0f}")
    report.figure(f"{backend}: ratio Candor/bare", ratio, "", goal=f">= {GOAL}",
                  met=ratio >= GOAL, fmt="{:.2f}")
    # Every acknowledged submission is stored, and nothing else failed.
    warm_count = options.clients * 4
    stored = count_rows(candor_url, "cases") - warm_count
    acknowledged = statuses["candor"][201]
    failures = {k: v for name in statuses for k, v in statuses[name].items() if k != 201}
    report.figure(f"{backend}: acknowledged submissions missing from the database",
                  acknowledged - stored, "", goal="0", met=acknowledged == stored)
    if failures:
        report.note(f"{backend}: non-201 answers {failures}")


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="submissions per round")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    options = parser.parse_args()
    backends = options.backend or ["sqlite", "postgresql"]
    report = Report("submit_throughput",
                    "Submissions per second, 2 server processes, Candor vs a bare insert")
    report.note(f"{options.clients} client processes, {options.count} submissions per round, "
                f"median of {options.rounds} alternating rounds; one connection per request")
    with tempfile.TemporaryDirectory(prefix="candor-throughput-") as tmp:
        work = Path(tmp)
        for backend in backends:
            if backend == "sqlite":
                measure(backend, lambda name: f"sqlite:///{work / name}.sqlite3", work,
                        options, report)
            else:
                with live_instance.postgres_cluster() as cluster:
                    measure(backend, cluster.create_database, work, options, report,
                            lambda: cluster_pids(cluster.data))
    report.write(options.json)


if __name__ == "__main__":
    main()
