"""Several nodes on one database: what sharing the limits costs, and submissions per second
through one node and through two.

Usage: ``.venv/bin/python bench/nodes.py [--count N] [--clients C] [--rounds R] [--json PATH]``

First, in this process, on SQLite and on PostgreSQL: the time one global rate-limit count
takes (``app/rate_limit.py``: an upsert that locks the limit's row, an update, a commit) and
one proof-of-work claim (``SpentChallenges.claim``: one INSERT ... ON CONFLICT DO NOTHING and
a commit), each on its own, as every submission pays them.

Then two nodes on one PostgreSQL cluster: two Candor servers (``app/server.py``, two processes
each, production mode), each with its own instance folder (a copy of the first: the same
organisation key pin), the same secret key, one database. ``--clients`` processes send prebuilt
valid submissions (cheap test KDF; proof of work at 1 bit, each body carrying its own solved
challenge, so every submission claims one) over loopback, one connection per request: in a
"one node" round all to the first server, in a "two nodes" round half to each. Rounds
alternate; the median counts. Afterwards every 201 is checked against the rows in the
database. On a machine with few cores the two nodes share them, so the second node cannot
add CPU: the figure then says that spreading over nodes costs nothing, not how it scales.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from _instance import candor_instance
from _report import Report, arguments

from tests.support import live_instance
from tests.support.http_reporter import HttpReporter, prebuild_submissions

POW_BITS = 1


def per_request_cost(backend: str, report: Report, calls: int = 400) -> None:
    from app.extensions import db
    from app.rate_limit import GlobalRateLimit
    from app.services.proof_of_work import SpentChallenges

    with candor_instance(backend, "limits") as (app, _config), app.app_context():
        limit = GlobalRateLimit("bench", 10**9)
        for _ in range(20):  # connections open, statements compiled
            limit.take(db.session, time.time())
            db.session.commit()
        started = time.perf_counter()
        for _ in range(calls):
            limit.take(db.session, time.time())
            db.session.commit()
        take = (time.perf_counter() - started) / calls
        spent = SpentChallenges(db.session)
        expires = int(time.time()) + 600
        started = time.perf_counter()
        for _ in range(calls):
            assert spent.claim(secrets.token_bytes(40), expires)
        claim = (time.perf_counter() - started) / calls
        db.session.remove()
    report.figure(f"{backend}: one global rate-limit count, committed", take * 1000, "ms")
    report.figure(f"{backend}: one proof-of-work claim, committed", claim * 1000, "ms")


def _client(urls: list[str], bodies: list[bytes], start: Any, results: Any) -> None:
    reporters = [HttpReporter(url) for url in urls]
    for reporter in reporters:
        reporter.start_session()
    statuses: Counter[int] = Counter()
    start.wait()
    for i, body in enumerate(bodies):
        try:
            statuses[reporters[i % len(reporters)].request("POST", "/api/v1/reports",
                                                           body).status] += 1
        except OSError:
            statuses[0] += 1
    results.put(dict(statuses))


def blast(urls: list[str], bodies: list[bytes], clients: int) -> tuple[float, Counter[int]]:
    """Send ``bodies`` split over ``clients`` processes, client i to ``urls[i % len(urls)]``;
    returns (201s per second, statuses)."""
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    processes = [context.Process(target=_client, args=([urls[i % len(urls)]],
                                                       bodies[i::clients], start, results))
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


def with_proofs(reporter: HttpReporter, count: int) -> list[bytes]:
    """Prebuilt submissions, each with a challenge of its own from the server, solved."""
    from candor_reporter import protocol

    built = []
    for prebuilt in prebuild_submissions(reporter, count):
        offered = reporter.get_json("/api/v1/proof-of-work")
        built.append(json.dumps(protocol.with_proof_of_work(json.loads(prebuilt.body),
                                                            offered)).encode())
    return built


def throughput(work: Path, options: Any, report: Report) -> None:
    from sqlalchemy import create_engine, text

    report.note(f"load average before the run {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
                f" on {os.cpu_count()} CPUs")
    with live_instance.postgres_cluster() as cluster, ExitStack() as stack:
        url = cluster.create_database("candor_nodes")
        instance = live_instance.prepare_instance(work / "node-1", url)
        shutil.copytree(instance.path, work / "node-2")
        env = instance.environment(CANDOR_PROOF_OF_WORK_BITS=str(POW_BITS))
        nodes = [stack.enter_context(live_instance.server(
            live_instance.CANDOR_TARGET, {**env, "CANDOR_INSTANCE_PATH": str(work / name)},
            work / f"{name}.log")) for name in ("node-1", "node-2")]
        warm_count = options.clients * 4
        total = options.count * options.rounds * 2 + warm_count
        started = time.perf_counter()
        bodies = with_proofs(HttpReporter(nodes[0].url), total)
        print(f"{total} submissions prebuilt in {time.perf_counter() - started:.1f} s",
              flush=True)
        warm, bodies = bodies[:warm_count], bodies[warm_count:]
        rates: dict[str, list[float]] = {"one node": [], "two nodes": []}
        statuses = blast([node.url for node in nodes], warm, options.clients)[1]
        for round_ in range(options.rounds):
            for k, (name, urls) in enumerate((("one node", [nodes[0].url]),
                                              ("two nodes", [n.url for n in nodes]))):
                at = (round_ * 2 + k) * options.count
                rate, seen = blast(urls, bodies[at:at + options.count], options.clients)
                rates[name].append(rate)
                statuses.update(seen)
                print(f"round {round_ + 1} {name}: {rate:.0f}/s {dict(seen)}", flush=True)
        engine = create_engine(url)
        with engine.connect() as connection:
            stored = int(connection.execute(text("SELECT count(*) FROM cases")).scalar_one())
        engine.dispose()
    for name, values in rates.items():
        report.figure(f"postgresql: submissions through {name} (2 processes each)",
                      statistics.median(values), "submissions/s", fmt="{:.0f}")
    acknowledged = statuses[201]
    report.figure("postgresql: acknowledged submissions missing from the database",
                  acknowledged - stored, "", goal="0", met=acknowledged == stored)
    failures = {k: v for k, v in statuses.items() if k != 201}
    if failures:
        report.note(f"non-201 answers {failures}")


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="submissions per round")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    report = Report("nodes", "Several nodes on one database: shared limits, submissions/s")
    for backend in ("sqlite", "postgresql"):
        per_request_cost(backend, report)
    report.note(f"{options.clients} client processes, {options.count} submissions per round, "
                f"median of {options.rounds} alternating rounds; one connection per request; "
                f"proof of work at {POW_BITS} bit, a claim per submission")
    with tempfile.TemporaryDirectory(prefix="candor-nodes-") as tmp:
        throughput(Path(tmp), options, report)
    report.write(options.json)


if __name__ == "__main__":
    main()
