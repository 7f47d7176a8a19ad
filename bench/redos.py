"""Time of the text extractors on 100 KB inputs shaped against backtracking regexes (issue #17,
finding 6), and the old SIGN_OFF pattern for comparison.

    .venv/bin/python bench/redos.py [size]

The cases are the ones lbsup/core/tests/security/test_redos.py runs under its hang guard; then
the sweep of lbsup/core/tests/security/test_regex_sweep.py (every re pattern of lbsup.assist and
lbsup.intake over 24 adversarial inputs), printed as the worst case per module.
"""

import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")  # lbsup.intake's modules need it

import django  # noqa: E402

django.setup()

from lbsup.assist import details, injection, signals  # noqa: E402
from lbsup.assist.drafts import FIELD_CUES  # noqa: E402
from lbsup.testing.regex_sweep import sweep  # noqa: E402

OLD_SIGN_OFF = re.compile(r"^\s*(?:thanks|thank you|many thanks|best|best regards|regards|kind regards|sincerely|"
                          r"cheers|warm regards|thx|respectfully|all the best)[,.!]?\s*$", re.I | re.M)


def cases(n):
    return {
        "details.extract_names, blank lines": lambda: details.extract_names("\n" * n, "body"),
        "details.extract_names, space-filled lines": lambda: details.extract_names(" \n" * (n // 2), "body"),
        "details.extract_money, digit groups": lambda: details.extract_money("111," * (n // 4), "body"),
        "injection.detect_injection, x + blank lines": lambda: injection.detect_injection("x" + "\n" * n),
        "injection.detect_injection, spaces": lambda: injection.detect_injection(" " * n),
        "signals.read_signals, x + blank lines": lambda: signals.read_signals("Hi", "x" + "\n" * n),
        "signals.read_signals, digit commas": lambda: signals.read_signals("Hi", "1," * (n // 2)),
        "drafts quantity cues, digit commas": lambda: [p.search("1," * (n // 2) + "x") for _, _, p in FIELD_CUES if p],
    }


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"inputs of {size:,} characters")
    for name, case in cases(size).items():
        started = time.perf_counter()
        case()
        print(f"{(time.perf_counter() - started) * 1000:9.1f} ms  {name}")
    for n in (5_000, 10_000):  # the old pattern grows with the square of the length: 100 KB would take minutes
        started = time.perf_counter()
        list(OLD_SIGN_OFF.finditer("\n" * n))
        print(f"{(time.perf_counter() - started) * 1000:9.1f} ms  old SIGN_OFF (\\s* at line start), {n:,} blank lines")
    worst, runs, total = {}, 0, 0.0
    for seconds, path, input_name in sweep(size):
        module = path.split("[")[0].rpartition(".")[0]
        runs, total = runs + 1, total + seconds
        if seconds >= worst.get(module, (0.0,))[0]:
            worst[module] = (seconds, path, input_name)
    print(f"sweep: {runs:,} runs of every pattern, {total:.1f} s in all; worst case per module:")
    for module, (seconds, path, input_name) in sorted(worst.items(), key=lambda item: -item[1][0]):
        print(f"{seconds * 1000:9.1f} ms  {path} on {input_name}")


if __name__ == "__main__":
    main()
