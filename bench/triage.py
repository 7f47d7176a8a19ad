"""Triage throughput, latency, memory and model load time on real support texts.

Usage: .venv/bin/python bench/triage.py [--playbook northwind] [--messages 1000]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import resource
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" if (ROOT.parent / "shared" / "data").exists() else Path("/work/shared/data")


def _customer_turns(path: Path) -> list[str]:
    """What the customer wrote in each thread, joined: one inbound message, not the agent's replies."""
    texts = []
    with open(path) as handle:
        for line in handle:
            turns = json.loads(line)["turns"]
            text = "\n".join(turn["text"] for turn in turns if turn["role"] == "customer").strip()
            if text:
                texts.append(text)
    return texts


def sample_texts(limit: int) -> list[str]:
    """Customer messages from four sources taken in turn, so short generated requests
    (bitext) and longer real ones (tweets, multi-turn customer threads, rental comments) mix."""
    with open(DATA / "bitext_cs" / "ours_test.csv", newline="") as handle:
        bitext = [row["text"] for row in csv.DictReader(handle)]
    with open(DATA / "cars4you" / "all.csv", newline="") as handle:
        rentals = [row["text"] for row in csv.DictReader(handle)]
    sources = [bitext, _customer_turns(DATA / "ibm_twitter_cdp" / "test.jsonl"),
               _customer_turns(DATA / "tweetsumm" / "train_with_text.jsonl"), rentals]
    mixed = [text for group in itertools.zip_longest(*sources) for text in group if text]
    return mixed[:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--playbook", default="northwind")
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()

    imports_started = time.perf_counter()
    from lbsup.assist.classifier import train_category_model
    from lbsup.assist.playbook import load_playbook_file
    from lbsup.assist.results import MessageInput, Sender
    from lbsup.assist.triage import triage, triage_batch

    started = time.perf_counter()
    import_seconds = started - imports_started
    playbook = load_playbook_file(str(ROOT / "lbsup" / "demo" / "playbooks" / f"{args.playbook}.yaml"))
    model = train_category_model(playbook.training_examples(), seed=0)
    messages = [MessageInput("", text, Sender("c@example.com", ""), datetime.now(timezone.utc))
                for text in sample_texts(args.messages)]
    triage(messages[0], playbook, model)  # loads the language model and warms caches
    load_seconds = time.perf_counter() - started

    latencies = []
    for item in messages:
        t0 = time.perf_counter()
        triage(item, playbook, model)
        latencies.append((time.perf_counter() - t0) * 1000)
    t0, cpu0 = time.perf_counter(), time.process_time()
    for start in range(0, len(messages), 64):
        triage_batch(messages[start:start + 64], playbook, model)
    batch_seconds, batch_cpu = time.perf_counter() - t0, time.process_time() - cpu0

    latencies.sort()
    lengths = sorted(len(m.body) for m in messages)
    print(f"messages: {len(messages)} (bitext_cs, ibm_twitter_cdp, tweetsumm, cars4you in turn), "
          f"characters p50 {lengths[len(lengths) // 2]} p95 {lengths[int(0.95 * len(lengths)) - 1]}, "
          f"playbook {playbook.version}")
    # The libraries' import (scikit-learn, scipy, onnxruntime, tokenizers) is printed apart: it is paid
    # once per process, by a worker at start-up, not by each model load.
    print(f"load+train+warm-up: {load_seconds:.2f} s (before it, the libraries' import: {import_seconds:.2f} s)")
    print(f"single triage latency ms: p50 {statistics.median(latencies):.2f}  "
          f"p95 {latencies[int(0.95 * len(latencies)) - 1]:.2f}  max {latencies[-1]:.2f}")
    # CPU per message is steadier than the rate when other work shares the cores.
    print(f"batch throughput: {len(messages) / batch_seconds:.0f} messages/s "
          f"(CPU {batch_cpu / len(messages) * 1000:.2f} ms per message)")
    print(f"max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
