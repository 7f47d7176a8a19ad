"""Property tests: any bytes either parse into a ParsedMail or raise MailRejected.

Runs ~300 examples per property by default; set LBSUP_FUZZ_EXAMPLES to run more.
"""

import os
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lbsup.intake.mailparse import MailRejected, ParsedMail, parse_message
from lbsup.intake.tests.eml_fixtures import all_fixture_names, load_eml

TOTAL_EXAMPLES = int(os.environ.get("LBSUP_FUZZ_EXAMPLES", "300"))
# Four properties share the budget.
PER_PROPERTY = max(10, TOTAL_EXAMPLES // 4)
SMALL_LIMITS = {"max_text_bytes": 20_000, "max_attachment_bytes": 5_000, "max_attachments": 5}

fuzz_settings = settings(
    max_examples=PER_PROPERTY,
    deadline=None,
    derandomize=os.environ.get("LBSUP_FUZZ_RANDOM") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

FIXTURES = [load_eml(name) for name in all_fixture_names() if not name.endswith(".gz")]

header_names = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
     "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "List-Id", "Return-Path",
     "Delivered-To", "Content-Language", "X-Weird", "MIME-Version"]
)
charsets = st.sampled_from(
    ["utf-8", "us-ascii", "iso-8859-1", "shift_jis", "x-unknown", "utf-7", "gb2312", "\"bad", "", "utf-16",
     "iso-2022-jp", "windows-1252", "koi8-r", "utf-8'en'", "a" * 300]
)
header_values = st.one_of(
    st.text(max_size=120),
    st.binary(max_size=120).map(lambda b: b.decode("latin-1")),
    st.builds(lambda cs, payload: f"=?{cs}?B?{payload}?=", charsets, st.text(alphabet="ABCDEFabcdef0123456789+/=", max_size=40)),
    st.builds(lambda cs, payload: f"=?{cs}?Q?{payload}?=", charsets, st.text(alphabet="=ABCDEF0123456789_xyz", max_size=40)),
    st.sampled_from(["<>", "<@>", "<<a@b>>", "a@", "@b", "\"\" <>", "Mon, 99 Foo 99999 99:99:99 +9999",
                     "multipart/mixed; boundary=", "multipart/alternative; boundary=\"x\"", "text/html",
                     "text/plain; charset=", "message/rfc822", "base64", "quoted-printable", "8bit"]),
)
body_chunks = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"--x\r\n", b"--x--\r\n", b"\r\n\r\n", b"=\r\n", b"=ZZ=4", b"====", b"\x00" * 50,
                     b"<script>alert(1)</script>", b"<img src=x onerror=alert(1)>", b"<a href='javascript:x'>a</a>",
                     b"<svg onload=alert(1)>", b"> quoted\r\n", b"On Mon, X wrote:\r\n", b"-- \r\n",
                     b"Content-Type: text/html\r\n\r\n", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n",
                     b"A" * 5000, b"SGVsbG8=\r\n", b"!!!notbase64!!!"]),
)


@st.composite
def synthetic_messages(draw) -> bytes:
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=12))
    lines = [f"{name}: {value}".encode("utf-8", "surrogateescape") for name, value in headers]
    separator = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    body = b"".join(draw(st.lists(body_chunks, max_size=8)))
    return separator.join(lines) + separator + separator + body


@st.composite
def nested_multiparts(draw) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=40))
    close = draw(st.booleans())
    raw = b"From: a@b.example\r\nSubject: nested\r\n"
    for level in range(depth):
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
        raw += f'Content-Type: multipart/{subtype}; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    raw += draw(st.sampled_from([b"Content-Type: text/html\r\n\r\n<script>x</script>hi",
                                 b"Content-Type: text/plain; charset=bogus\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%"]))
    if close:
        raw += b"".join(f"\r\n--b{level}--\r\n".encode() for level in reversed(range(depth)))
    return raw


@st.composite
def mutated_fixtures(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(FIXTURES)))
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        operation = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if not data:
            break
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        if operation == "flip":
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=64))]
        elif operation == "insert":
            data[position:position] = draw(body_chunks)
        elif operation == "truncate":
            del data[position:]
        else:
            data[position:position] = data[position : position + draw(st.integers(min_value=1, max_value=500))]
    return bytes(data)


class _ActiveContentFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "iframe", "svg", "form", "object", "embed", "meta", "base", "style"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if value and re.match(r"\s*(java|vb)script:", value, re.IGNORECASE):
                self.found.append(f"{tag}[{name}={value}]")


def _check(raw: bytes) -> None:
    try:
        mail = parse_message(raw, **SMALL_LIMITS)
    except MailRejected as rejected:
        assert rejected.reason
        return
    assert isinstance(mail, ParsedMail)
    assert mail.dedup_key
    assert parse_message(raw, **SMALL_LIMITS).dedup_key == mail.dedup_key
    lowered = mail.html.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert not re.search(r"\son[a-z]+\s*=", lowered)
    finder = _ActiveContentFinder()
    finder.feed(mail.html)
    assert finder.found == []
    assert len(mail.text.encode("utf-8", "surrogatepass")) <= SMALL_LIMITS["max_text_bytes"] * 3
    assert all(a.skipped_reason or a.size <= SMALL_LIMITS["max_attachment_bytes"] for a in mail.attachments)
    assert all("/" not in a.filename and "\\" not in a.filename for a in mail.attachments)


@fuzz_settings
@given(st.binary(max_size=3000))
def test_it_never_crashes_on_random_bytes(raw):
    _check(raw)


@fuzz_settings
@given(synthetic_messages())
def test_it_never_crashes_on_malformed_messages(raw):
    _check(raw)


@fuzz_settings
@given(nested_multiparts())
def test_it_never_crashes_on_nested_multiparts(raw):
    _check(raw)


@fuzz_settings
@given(mutated_fixtures())
def test_it_never_crashes_on_mutated_fixtures(raw):
    _check(raw)
