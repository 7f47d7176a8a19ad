"""Parse speed of lbsup.intake.mailparse over the fixture corpus (prints figures, asserts nothing).

Usage: .venv/bin/python bench/mailparse_speed.py [--rounds 50]
"""

import argparse
import statistics
import time

from lbsup.intake.mailparse import parse_message
from lbsup.intake.tests.eml_fixtures import all_fixture_names, load_eml


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    rounds = parser.parse_args().rounds
    corpus = {name: load_eml(name) for name in all_fixture_names()}
    small = {name: raw for name, raw in corpus.items() if len(raw) < 100_000}
    timings = []
    started = time.perf_counter()
    for _ in range(rounds):
        for raw in small.values():
            before = time.perf_counter()
            parse_message(raw)
            timings.append(time.perf_counter() - before)
    elapsed = time.perf_counter() - started
    timings.sort()
    print(f"{len(small)} small fixtures x {rounds} rounds = {len(timings)} parses")
    print(f"throughput {len(timings) / elapsed:,.0f} msg/s; p50 {statistics.median(timings) * 1000:.2f} ms; "
          f"p95 {timings[int(len(timings) * 0.95)] * 1000:.2f} ms; max {timings[-1] * 1000:.2f} ms")
    for name, raw in corpus.items():
        if len(raw) >= 100_000:
            before = time.perf_counter()
            parse_message(raw)
            print(f"{name}: {len(raw):,} bytes parsed in {(time.perf_counter() - before) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
