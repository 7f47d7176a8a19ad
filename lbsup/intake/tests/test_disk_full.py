"""The attachment store fills up mid-ingest: a real, tiny tmpfs mounted as MEDIA_ROOT."""

import os
import subprocess
from email.message import EmailMessage

import pytest

from lbsup.intake.actions import do_ingest, do_store_missing_attachments
from lbsup.tickets.models import Attachment

pytestmark = pytest.mark.faults

ATTACHMENT_BYTES = 200_000  # three times the disk


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


@pytest.fixture
def tiny_disk(tmp_path, settings):
    """A 64 kB tmpfs as the attachment storage; skipped where mounting is not permitted."""
    mount_point = tmp_path / "media"
    mount_point.mkdir()
    mounted = run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    settings.MEDIA_ROOT = mount_point
    try:
        yield mount_point
    finally:
        run("umount", "--lazy", str(mount_point))


def grow(mount_point, size):
    result = run("mount", "-o", f"remount,size={size}", str(mount_point))
    assert result.returncode == 0, result.stderr


def used_bytes(mount_point):
    return sum(f.stat().st_size for f in mount_point.rglob("*") if f.is_file())


def mail_with_attachment():
    mail = EmailMessage()
    mail["From"] = "Maria Gonzalez <maria@mailbox.example>"
    mail["To"] = "hello@brightsmile.example"
    mail["Subject"] = "X-ray from my last visit"
    mail["Message-ID"] = "<xray-1@mailbox.example>"
    mail.set_content("Here is the X-ray you asked for.")
    mail.add_attachment(os.urandom(ATTACHMENT_BYTES), maintype="application", subtype="pdf", filename="xray.pdf")
    return mail.as_bytes()


def test_it_keeps_the_message_and_says_what_is_missing_when_the_disk_is_full(personas, tiny_disk):
    raw = mail_with_attachment()
    raw_message = do_ingest(personas.dental, raw, channel="smtp")

    assert raw_message.state == "processed"
    assert bytes(raw_message.raw) == raw
    [attachment] = Attachment.objects.filter(message=raw_message.message)
    assert not attachment.file
    assert attachment.skipped_reason == "could not store the file: No space left on device"
    assert "xray.pdf not stored: No space left on device" in raw_message.detail
    assert raw_message.message.text.startswith("Here is the X-ray")
    assert used_bytes(tiny_disk) == 0  # the partial file is removed, not left filling the disk


def test_it_stores_the_missing_attachment_once_space_is_freed(personas, tiny_disk):
    raw_message = do_ingest(personas.dental, mail_with_attachment(), channel="smtp")
    assert do_store_missing_attachments(raw_message.message) == 0  # still full: nothing stored, nothing lost

    grow(tiny_disk, "1m")
    assert do_store_missing_attachments(raw_message.message) == 1
    [attachment] = Attachment.objects.filter(message=raw_message.message)
    assert attachment.skipped_reason == ""
    assert attachment.file.size == ATTACHMENT_BYTES
    assert attachment.file.read() == next(iter(_attachments(raw_message)))
    assert do_store_missing_attachments(raw_message.message) == 0  # idempotent


def _attachments(raw_message):
    from lbsup.intake.mailparse import parse_message

    return [a.content for a in parse_message(bytes(raw_message.raw)).attachments]
