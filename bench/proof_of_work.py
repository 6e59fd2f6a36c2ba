"""How long solving the report proof of work takes in Python (the command-line client).

Usage: ``.venv/bin/python bench/proof_of_work.py [--runs N] [--bits 16 18 20] [--json PATH]``

Solves ``--runs`` fresh challenges at each cost with ``solve_proof_of_work`` and prints
the median and the spread. The number of attempts is random (about 2**bits on average, often
half or twice that), so a few runs vary widely; the figure from the hash rate is the steadier
estimate of the average.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from _report import Report, arguments

from crypto.proof_of_work import solve_proof_of_work


def solve_rate(seconds: float = 2.0) -> float:
    """Attempts per second: many small solves, each nonce being the attempts it took, less one."""
    total, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        challenge = os.urandom(40)
        nonce = solve_proof_of_work(challenge, 12)
        total += int.from_bytes(nonce, "big") + 1
    return total / (time.perf_counter() - start)


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bits", type=int, nargs="+", default=[16, 18, 20])
    options = parser.parse_args()
    report = Report("proof_of_work", "Proof of work solved in Python (command-line client)")
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} logical CPUs")
    rate = solve_rate()
    report.figure("hash rate", rate / 1e6, "million attempts/s")
    for bits in options.bits:
        times = []
        for _ in range(options.runs):
            challenge = os.urandom(40)
            start = time.perf_counter()
            solve_proof_of_work(challenge, bits)
            times.append(time.perf_counter() - start)
        print(f"{bits} bits: median {statistics.median(times):.2f} s over {options.runs} runs "
              f"(min {min(times):.2f}, max {max(times):.2f})")
        report.figure(f"{bits} bits, average expected from the rate", 2 ** bits / rate, "s",
                      note=f"median of {options.runs} solves {statistics.median(times):.2f} s")
    report.write(options.json)


if __name__ == "__main__":
    main()
