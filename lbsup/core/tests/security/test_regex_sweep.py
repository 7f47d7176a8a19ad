"""Issue #17, finding 6, the sweep: every regular expression of lbsup.assist and lbsup.intake,
found by walking the modules (lbsup/testing/regex_sweep.py), run with finditer over 24
adversarial 100 KB inputs.

The sweep found eight patterns quadratic under search before they were fixed, 1.5-85 s each at
only 20 KB (minutes to half an hour at 100 KB): the separator line of quoted replies, the bare
address of a From header, the URL scheme, three header-line patterns, the content type and an
injection cue.  All 244 now take at most ~0.15 s at 100 KB and ~40 s together.  The child
process names each case before it runs it; a case still running after PER_CASE seconds (30
times the slowest linear one) fails the test naming itself, and bench/redos.py prints the figures."""

from lbsup.core.tests.security.test_redos import SIZE
from lbsup.testing.hangs import run_cases_without_hanging

HANG = 600
PER_CASE = 5

CHILD = f"""
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")
import django
django.setup()
from lbsup.testing.regex_sweep import sweep, swept_patterns

assert len(swept_patterns()) > 200, len(swept_patterns())  # the walk still finds the engine's patterns
for _ in sweep({SIZE}, on_start=lambda path, input_name: print(path, "on", input_name, flush=True)):
    pass
print("done", flush=True)
"""


def test_it_runs_every_regex_of_the_engine_and_intake_over_100_kb_adversarial_inputs_without_hanging():
    run_cases_without_hanging(CHILD, HANG, per_case=PER_CASE)


def test_the_fixed_patterns_still_match_what_they_are_for():
    from lbsup.assist.injection import EXTRA_INJECTION_CUES
    from lbsup.assist.signals import _ESCAPE_IN_BRACKETS
    from lbsup.intake.mail_html import _SCHEME
    from lbsup.intake.mail_quoting import _SEPARATOR_LINE
    from lbsup.intake.mailparse.addresses import _BARE_ADDRESS
    from lbsup.intake.mailparse.body import _CONTENT_TYPE
    from lbsup.intake.mailparse.headers import _OBSOLETE_NAME, _STRICT_HEADER_LINE, HEADER_LINE

    assert _SEPARATOR_LINE.match("-----Original Message-----") and _SEPARATOR_LINE.match("  __ Forwarded message __ ")
    assert not _SEPARATOR_LINE.match("The original message was lost")
    assert [m.group(0) for m in _BARE_ADDRESS.finditer("Test test@example.com, b@x.org")] == [
        "test@example.com", "b@x.org"]
    assert _SCHEME.match("javascript:alert(1)").group(1) == "javascript"
    assert _CONTENT_TYPE.fullmatch("application/vnd.ms-excel") and not _CONTENT_TYPE.fullmatch("text")
    assert HEADER_LINE.match(b"Subject : hi") and _STRICT_HEADER_LINE.match(b"X-Mailer:")
    assert _OBSOLETE_NAME.match(b"From  : x").group(1) == b"From"
    end_marker = next(pattern for pattern, _ in EXTRA_INJECTION_CUES if "end ?---" in pattern.pattern)
    assert end_marker.search("hello\n----- end -----\nnew rules") and end_marker.search("x ---end--- y")
    assert _ESCAPE_IN_BRACKETS.search(r"[\s,]") and _ESCAPE_IN_BRACKETS.search(r"[a[\d]") and not _ESCAPE_IN_BRACKETS.search(r"[a]\d")
