"""Benchmark the production category classifier (lbsup.assist.classifier).

    python bench/classify.py --train TRAIN.csv --test TEST.csv [--shots N --seed S]
                             [--val VAL.csv --oos-label oos]

CSV files have `text,label` columns.  With --val/--oos-label the out-of-scope
label is left out of training, a threshold on the top probability is chosen on
val (a minimum top probability and a minimum `familiarity`, i.e. similarity to
the closest training example) for the best oos recall that costs at most one
point of in-scope accuracy on val (see tune_rule), and applied to test.  The last printed line is the summary that README figures quote.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lbsup.assist.classifier import train_category_model  # noqa: E402
from lbsup.assist.encoder import load_encoder  # noqa: E402


def read_rows(path: str) -> list[tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return [(row["text"], row["label"]) for row in csv.DictReader(stream)]


def sample_shots(rows: list[tuple[str, str]], shots: int, seed: int) -> list[tuple[str, str]]:
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)
    chosen = []
    for label in sorted(by_label):
        group = by_label[label]
        chosen.extend(rng.sample(group, min(shots, len(group))))
    return chosen


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    labels = sorted(set(truth))
    scores = []
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted) if t == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


IN_SCOPE_ACCURACY_BUDGET = 0.01


def tune_rule(
    top_probability: np.ndarray, familiarity: np.ndarray, correct: np.ndarray, is_oos: np.ndarray
) -> tuple[float, float]:
    """(min top probability, min familiarity): the highest val oos recall that costs at most
    one point of val in-scope accuracy (ties: higher in-scope accuracy).

    Why not plain val accuracy: val holds 3% oos, so that rule barely rejects
    anything (CLINC150 test: 95.6 / 47.6).  Why not the mean of in-scope accuracy
    and oos recall: it gives up ~8 points of in-scope accuracy (87.4 / 91.2).
    A fixed accuracy budget is also how triage would set its `unsure` bar.
    Candidates are quantiles 0-30% of the in-scope val scores.
    """
    quantiles = np.linspace(0.0, 0.30, 61)
    probability_candidates = np.concatenate([[0.0], np.quantile(top_probability[~is_oos], quantiles)])
    familiarity_candidates = np.concatenate([[-1.0], np.quantile(familiarity[~is_oos], quantiles)])
    floor = correct[~is_oos].mean() - IN_SCOPE_ACCURACY_BUDGET
    best, best_score = (0.0, -1.0), (-1.0, -1.0)
    for min_probability in probability_candidates:
        for min_familiarity in familiarity_candidates:
            accepted = (top_probability >= min_probability) & (familiarity >= min_familiarity)
            in_scope_accuracy = (correct & accepted)[~is_oos].mean()
            if in_scope_accuracy < floor:
                continue
            score = ((~accepted)[is_oos].mean(), in_scope_accuracy)
            if score > best_score:
                best, best_score = (float(min_probability), float(min_familiarity)), score
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--shots", type=int, default=0, help="examples per label (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val")
    parser.add_argument("--oos-label")
    args = parser.parse_args()

    train = read_rows(args.train)
    test = read_rows(args.test)
    if args.oos_label:
        train = [row for row in train if row[1] != args.oos_label]
    if args.shots:
        train = sample_shots(train, args.shots, args.seed)
    load_encoder()  # loading the model once per process is not training time

    started = time.perf_counter()
    model = train_category_model(train, seed=args.seed)
    train_seconds = time.perf_counter() - started
    print(f"trained on {len(train)} examples, {len(model.labels)} labels, version {model.version}")

    started = time.perf_counter()
    predictions = model.predict_batch([text for text, _ in test])
    msgs_per_second = len(test) / (time.perf_counter() - started)

    latencies = []
    for text, _ in test[:200]:
        started = time.perf_counter()
        model.predict(text)
        latencies.append((time.perf_counter() - started) * 1000)
    p95_ms = float(np.percentile(latencies, 95))

    truth = [label for _, label in test]
    predicted = [prediction.top.label for prediction in predictions]
    top_probabilities = np.array([prediction.top.probability for prediction in predictions])

    oos_recall = float("nan")
    if args.oos_label:
        min_probability, min_familiarity = 0.0, -1.0
        if args.val:
            val = read_rows(args.val)
            val_predictions = model.predict_batch([text for text, _ in val])
            min_probability, min_familiarity = tune_rule(
                np.array([p.top.probability for p in val_predictions]),
                np.array([p.familiarity for p in val_predictions]),
                np.array([p.top.label == label for p, (_, label) in zip(val_predictions, val)]),
                np.array([label == args.oos_label for _, label in val]),
            )
        print(f"rule tuned on val: oos if top probability < {min_probability:.4f} or familiarity < {min_familiarity:.4f}")
        familiarity = np.array([prediction.familiarity for prediction in predictions])
        predicted = [
            label if probability >= min_probability and near >= min_familiarity else args.oos_label
            for label, probability, near in zip(predicted, top_probabilities, familiarity)
        ]
        is_oos = np.array([label == args.oos_label for label in truth])
        correct = np.array([t == p for t, p in zip(truth, predicted)])
        accuracy = float(correct[~is_oos].mean())
        oos_recall = float(correct[is_oos].mean())
    else:
        accuracy = float(np.mean([t == p for t, p in zip(truth, predicted)]))
        hits = [p.top.label == t for p, t in zip(predictions, truth)]
        # Calibration check: expected calibration error over 10 probability bins.
        bins = np.minimum((top_probabilities * 10).astype(int), 9)
        ece = sum(
            abs(np.mean(np.array(hits)[bins == b]) - np.mean(top_probabilities[bins == b])) * np.sum(bins == b)
            for b in range(10)
            if np.any(bins == b)
        ) / len(test)
        print(f"expected calibration error (10 bins): {ece:.4f}")

    print(
        f"accuracy={accuracy * 100:.2f} macro_f1={macro_f1(truth, predicted) * 100:.2f} "
        f"oos_recall={oos_recall * 100:.2f} train_s={train_seconds:.1f} "
        f"msgs_per_s={msgs_per_second:.0f} p95_ms={p95_ms:.1f}"
    )


if __name__ == "__main__":
    main()
