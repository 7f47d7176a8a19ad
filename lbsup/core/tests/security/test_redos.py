"""Issue #17, finding 6: texts of 100 KB shaped to make a backtracking regex slow (blank lines,
runs of spaces, digit groups) go through the extractors that a customer's mail reaches.

Each pattern below took time growing with the square of the input: 10,000 blank lines cost
4.7 s in SIGN_OFF alone, so 100 KB ran for minutes.  The run happens in a child process that
names each case before starting it; the test fails, naming the case, only if a case hangs
(no figure is asserted: bench/ keeps the timings)."""

from lbsup.testing.hangs import run_cases_without_hanging

SIZE = 100_000
HANG = 120  # seconds for all cases together; they take well under a second each when linear

CHILD = f"""
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")
import django
django.setup()
from lbsup.assist import details, drafts, injection, signals
from lbsup.assist.drafts import FIELD_CUES
from lbsup.intake.thread_matching import reply_subject_key

N = {SIZE}
cases = {{
    "details.SIGN_OFF on blank lines": lambda: details.extract_names("\\n" * N, "body"),
    "details.SIGN_OFF on space-filled lines": lambda: details.extract_names(" \\n" * (N // 2), "body"),
    "details.MONEY on digit groups": lambda: details.extract_money("111," * (N // 4), "body"),
    "injection line-start cues after a first character": lambda: injection.detect_injection("x" + "\\n" * N),
    "signals line-start cues": lambda: signals.read_signals("Hi", "x" + "\\n" * N),
    "drafts quantity cue on digit commas": lambda: [p.search("1," * (N // 2) + "x") for _, _, p in FIELD_CUES if p],
    "threading reply prefixes without a colon": lambda: reply_subject_key(" re" * (N // 3) + "x"),
    "threading reply prefixes, then tags": lambda: reply_subject_key("re:" * (N // 6) + "[#1" * (N // 6)),
}}
for name, case in cases.items():
    print(name, flush=True)
    case()
print("done", flush=True)
"""


def test_it_reads_adversarial_100_kb_texts_without_hanging():
    run_cases_without_hanging(CHILD, HANG)


def test_it_still_finds_a_sign_off_name_after_spaced_blank_lines():
    from lbsup.assist.details import extract_names

    names = [d.value for d in extract_names("Can I move my cleaning?\n\nThanks,  \n  \nMaria Gonzalez\n", "body")]
    assert "Maria Gonzalez" in names
