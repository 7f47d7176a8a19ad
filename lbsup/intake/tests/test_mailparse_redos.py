"""The parser's own patterns and line scans on 100 KB inputs shaped to make them slow (as in
lbsup/core/tests/security/test_redos.py): runs of the characters each pattern repeats, openers
without closers, thousands of lines that each start a match. Run in a child process that names
each case first, so a hang names its case."""

from lbsup.testing.hangs import run_cases_without_hanging

SIZE = 100_000
HANG = 120

CHILD = f"""
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lbsup.settings")
import django
django.setup()
from lbsup.intake.mailparse import MailRejected
from lbsup.intake.mailparse import parse_message as parse
from lbsup.intake.mailparse import addresses, attachments, bounce, words

N = {SIZE}
H = 4_000  # headers are cut to this before addresses are read; patterns see at most 4x it raw

def parse_message(raw):
    try:
        parse(raw)
    except MailRejected:
        pass

def mail(head, body=b"x"):
    return b"From: a@x.example\\r\\nSubject: s\\r\\n" + head + b"\\r\\n\\r\\n" + body

cases = {{
    "header repair: broken lines": lambda: parse_message(mail(b"\\r\\n".join([b"broken line"] * (N // 12)))),
    "header repair: spaces before a colon": lambda: parse_message(mail(b"X-A" + b" " * N + b": v")),
    "header repair: no colon at all": lambda: parse_message(b"X" * N),
    "header repair: continuations after one broken line": lambda: parse_message(
        mail(b"broken\\r\\n" + b"\\r\\n ".join([b"c"] * (N // 4)))),
    "junk lines before the headers": lambda: parse_message(b"junk\\n" * 5 + b"a" * N + b"\\nFrom: a@x.example\\n\\nx"),
    "encoded words without an end": lambda: words.decode_words("=?utf-8?q?" + "a" * N),
    "encoded-word openers": lambda: words.decode_words("=?" * (N // 2)),
    "encoded words back to back": lambda: words.decode_words("=?utf-8?b?YQ==?=" * (N // 16)),
    "bare addresses: at signs": lambda: addresses._parse("@" * H),
    "bare addresses: almost an address": lambda: addresses._parse(("a@" * (H // 2))),
    "bare addresses: spaces and dots": lambda: addresses._parse(" . " * (H // 3) + "@"),
    "addresses in a huge header": lambda: parse_message(mail(b"To: " + b"a a@b " * (N // 6))),
    "bounce: recipient openers": lambda: bounce._free_text_bounce("<" + "a" * N, None),
    "bounce: almost-recipient lines": lambda: bounce._free_text_bounce("a@b\\n" * (N // 4), None),
    "bounce: status digits": lambda: bounce._free_text_bounce("5." * (N // 2), None),
    "bounce: field names without values": lambda: bounce._free_text_bounce("Status:" + " " * N, None),
    "bounce: Message-ID lines": lambda: bounce._free_text_bounce("Message-ID: <" * (N // 13), None),
    "uuencode: begin lines without end": lambda: attachments.inline_uu_blocks("begin 644 a\\n" * (N // 12)),
    "uuencode: begin lines, one end at the bottom": lambda: attachments.inline_uu_blocks(
        "begin 644 a\\n" * (N // 12) + "end\\n"),
    "uuencode: begin line of spaces": lambda: attachments.inline_uu_blocks("begin 644" + " " * N + "x"),
    "uudecode: long garbage lines": lambda: attachments.uudecode([b"M" + b"!" * N] * 3),
    "8-bit filename parameter": lambda: parse_message(mail(
        b"Content-Disposition: attachment; " + b"; " * (N // 4) + b"filename=\\xe9" + b"a" * 1000)),
    "8-bit header detection": lambda: parse_message(mail(b"\\r\\n".join(b"X-%d: " % i + bytes(range(0x80, 0x100)) * 8
                                                                   for i in range(100)))),
}}
for name, case in cases.items():
    print(name, flush=True)
    case()
print("done", flush=True)
"""


def test_the_parser_reads_adversarial_100_kb_inputs_without_hanging():
    run_cases_without_hanging(CHILD, HANG)
