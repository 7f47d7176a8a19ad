"""Every mail of shared/data/mail_fixtures/ (174 real and deliberately malformed mails from the
cpython, mikel/mail and SpamScope parser test suites) goes through the parser: it is read or
refused with a reason, and nothing a person could read is turned into U+FFFD or dropped."""

import re
from pathlib import Path

import pytest

from lbsup.intake.mailparse import MailRejected, parse_message
from lbsup.intake.mailparse.charsets import decode_8bit_header

REPO = Path(__file__).resolve().parents[3]
FIXTURES = next((path for path in (REPO.parent / "shared" / "data" / "mail_fixtures",
                                   Path("/work/shared/data/mail_fixtures")) if path.is_dir()), None)

pytestmark = pytest.mark.skipif(FIXTURES is None, reason="shared/data/mail_fixtures is not here")

# The only files that are not mail: a digest body without headers, an empty file, an Outlook .msg.
NOT_MAIL = {
    "cpython_email/msg_19.txt": "no mail headers found",
    "mikel_mail/sample_output_multipart": "empty input",
    "spamscope_mail_parser/mail_outlook_1": "no mail headers found",
}
_SENDER_HEADER = re.compile(rb"^(from|reply-to|sender)[ \t]*:([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(rb"[\w.+-]@[\w-]+\.[\w.-]")


def fixtures():
    return sorted(str(path.relative_to(FIXTURES)) for path in FIXTURES.rglob("*") if path.is_file()) if FIXTURES else []


def header_block(raw: bytes) -> bytes:
    return re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]


def raw_header(raw: bytes, name: bytes) -> bytes:
    match = re.search(rb"^" + name + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)", header_block(raw), re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else b""


def test_every_fixture_is_read_or_refused_with_a_reason():
    read, refused = [], {}
    for name in fixtures():
        raw = (FIXTURES / name).read_bytes()
        try:
            parsed = parse_message(raw)
        except MailRejected as rejected:
            assert rejected.reason.strip(), name
            refused[name] = rejected.reason
            continue
        read.append(name)
        senders = [value for _, value in _SENDER_HEADER.findall(header_block(raw)) if _ADDRESS.search(value)]
        if senders:
            assert parsed.from_email, (name, senders)
        for field, header in ((parsed.subject, b"subject"), (parsed.from_name, b"from")):
            if "\ufffd" not in field:
                continue
            value = raw_header(raw, header)
            # a real U+FFFD in the bytes, or bytes that no charset reads, may stay
            assert b"\xef\xbf\xbd" in value or "\ufffd" in decode_8bit_header(value, None)[0], (name, field)
    assert refused == NOT_MAIL
    assert len(read) + len(refused) == len(fixtures()) >= 170


def test_the_repairs_are_recorded():
    repaired = {}
    for name in ("mikel_mail/plain_emails__raw_email_incorrect_header.eml", "mikel_mail/rfc2822__example13.eml",
                 "mikel_mail/plain_emails__mix_caps_content_type.eml",
                 "mikel_mail/error_emails__invalid_subject_characters.eml"):
        repaired[name] = parse_message((FIXTURES / name).read_bytes())
    assert all(parsed.problems and parsed.from_email for parsed in repaired.values())
    assert "\ufffd" not in repaired["mikel_mail/error_emails__invalid_subject_characters.eml"].subject


def test_every_delivery_report_names_what_bounced():
    reports = 0
    for name in fixtures():
        raw = (FIXTURES / name).read_bytes()
        if b"delivery-status" not in raw.lower():
            continue
        try:
            parsed = parse_message(raw)
        except MailRejected:
            continue
        if not re.search(rb"multipart/report", raw, re.IGNORECASE) or b"final-recipient" not in raw.lower():
            continue  # a report that names no recipient (cpython msg_05) has nothing to tell
        reports += 1
        assert parsed.bounce is not None, name
        assert parsed.bounce.original_message_id or parsed.bounce.recipient, name
    assert reports >= 6
