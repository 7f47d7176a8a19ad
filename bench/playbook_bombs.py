"""Time to refuse each hostile playbook file (issue #17, finding 4; prints figures, asserts nothing).

"now" is lbsup's loader (event-stream limits, then the tree). "before" is what the old
loader did first: walk the whole pure-Python event stream (yaml.parse with SafeLoader)
looking for aliases, before composing; "[" * 20,000 took 60 s there, "[" * 40,000 145 s.
yaml.safe_load is printed too: its composer dies of RecursionError on deep nesting, which
is why it looks cheap. Both run in a child process stopped after --timeout.

Usage: .venv/bin/python bench/playbook_bombs.py [--timeout 120] [--only NAME]
"""

import argparse
import multiprocessing
import time

import yaml

from lbsup.assist.playbook import PlaybookError, load_playbook
from lbsup.core.tests.security.playbook_bomb_corpus import BOMBS


def _old_event_walk(text):
    for _ in yaml.parse(text, Loader=yaml.SafeLoader):
        pass


def _timed(function, text, answer):
    started = time.perf_counter()
    try:
        function(text)
        outcome = "loaded"
    except yaml.YAMLError as error:
        outcome = f"refused: {getattr(error, 'problem', None) or error}"
    except RecursionError:
        outcome = "refused: RecursionError"
    answer.put((time.perf_counter() - started, outcome))


def before(function, text, timeout):
    answer = multiprocessing.Queue()
    child = multiprocessing.Process(target=_timed, args=(function, text, answer))
    started = time.perf_counter()
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.terminate()
        child.join()
        return f"> {timeout:.0f} s (stopped)"
    if child.exitcode != 0 or answer.empty():
        return f"{time.perf_counter() - started:.2f} s (crashed, exit {child.exitcode})"
    seconds, outcome = answer.get()
    return f"{seconds:.3f} s ({outcome[:40]})"


def now(text):
    started = time.perf_counter()
    try:
        load_playbook(text, source="bomb.yaml")
        message = "ACCEPTED"
    except PlaybookError as error:
        message = error.problems[0].message
    return time.perf_counter() - started, message


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before the old path is stopped")
    parser.add_argument("--only", help="one bomb by name")
    args = parser.parse_args()
    print(f"libyaml: {'yes' if yaml.__with_libyaml__ else 'no (pure-Python fallback)'}")
    for name, (text, _) in BOMBS.items():
        if args.only and name != args.only:
            continue
        seconds, message = now(text)
        print(f"{name} ({len(text.encode()):,} bytes): now {seconds * 1000:.1f} ms — {message[:70]}")
        print(f"    before, old pure-Python event walk: {before(_old_event_walk, text, args.timeout)}", flush=True)
        print(f"    yaml.safe_load: {before(yaml.safe_load, text, args.timeout)}", flush=True)


if __name__ == "__main__":
    main()
