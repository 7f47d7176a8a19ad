"""Score lbsup's thread summarizer against TweetSumm's human summaries.

Usage: .venv/bin/python bench/summarize.py [PATH] [--limit N] [--show K]

PATH defaults to ../shared/data/tweetsumm/train_with_text.jsonl relative to the repo root.
Only the train split has dialog text, so this is the only file the summarizer can be
measured (and was tuned) on; no held-out figure exists.  ROUGE F1 x100 with stemming
(rouge-score, a bench-only dependency), averaged over each dialog's human summaries.
The last line is "rouge1=… rouge2=… rougeL=…".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lbsup.assist.summarize import summarize_thread  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "data" / "tweetsumm" / "train_with_text.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--show", type=int, default=0, help="print K example summaries")
    args = parser.parse_args()
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    count = 0
    elapsed = 0.0
    with open(args.path, encoding="utf-8") as handle:
        for line in handle:
            dialog = json.loads(line)
            references = [r for r in dialog.get("abstractive", []) if r.strip()]
            if not references:
                continue
            started = time.perf_counter()
            summary = summarize_thread(dialog["turns"])
            elapsed += time.perf_counter() - started
            for key in totals:
                totals[key] += sum(scorer.score(ref, summary.text)[key].fmeasure for ref in references) / len(references)
            if count < args.show:
                print(f"- {summary.text}\n  human: {references[0]}\n")
            count += 1
            if args.limit and count >= args.limit:
                break
    print(f"dialogs={count} mean_ms={1000 * elapsed / max(count, 1):.2f}")
    print(" ".join(f"{key}={100 * value / max(count, 1):.1f}" for key, value in totals.items()))


if __name__ == "__main__":
    main()
