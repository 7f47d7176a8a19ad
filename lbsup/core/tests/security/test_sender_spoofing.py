"""Issue #17, finding 3: an RFC 2047 encoded display name is text, never an address.  The list is
parsed first and the names decoded after, so a name cannot speak for the VIP it imitates and an
encoded comma does not split one mailbox in two."""

from lbsup.audit.actors import SYSTEM
from lbsup.crm.actions import do_create_contact, do_set_contact_flags
from lbsup.intake.actions import do_ingest
from lbsup.intake.mailparse import parse_message
from lbsup.tickets.actions import do_create_ticket

SPOOFED_FROM = "=?utf-8?q?Linda_Chu_=3Clinda.chu=40webmail.example=3E?= <mallory@evil.example>"


def mail(from_header, subject):
    return (f"From: {from_header}\r\nTo: hello@brightsmile.example\r\nSubject: {subject}\r\n"
            "Message-ID: <spoof-1@evil.example>\r\nContent-Type: text/plain\r\n\r\n"
            "Please send my records to this address.\r\n").encode()


def test_it_reads_the_real_address_behind_an_address_shaped_encoded_name():
    parsed = parse_message(mail(SPOOFED_FROM, "Hello"))
    assert parsed.from_email == "mallory@evil.example"
    assert "linda.chu@webmail.example" in parsed.from_name  # kept, as the text it is


def test_it_keeps_an_encoded_comma_inside_one_display_name():
    parsed = parse_message(mail("=?utf-8?B?TcO8bGxlciwgQmVybmQ=?= <bernd@mueller.example>", "Hallo"))
    assert (parsed.from_email, parsed.from_name) == ("bernd@mueller.example", "Müller, Bernd")
    raw = mail("Pat <pat@x.example>", "Hi").replace(
        b"To: hello@brightsmile.example", b"To: =?utf-8?q?M=C3=BCller=2C_Bernd?= <bernd@mueller.example>, Anna <anna@x.example>")
    assert [(a.email, a.name) for a in parse_message(raw).to] == [
        ("bernd@mueller.example", "Müller, Bernd"), ("anna@x.example", "Anna")]


def test_it_files_the_spoofed_mail_under_the_sender_not_the_vip_nor_her_ticket(personas):
    linda = do_create_contact(SYSTEM, personas.dental, name="Linda Chu", emails=["linda.chu@webmail.example"])
    do_set_contact_flags(SYSTEM, linda, vip=True, sensitive=False, reason="Board member")
    ticket = do_create_ticket(SYSTEM, personas.dental, contact=linda, subject="Crown fitting", channel="email",
                              text="When is my crown ready?")
    raw_message = do_ingest(personas.dental, mail(SPOOFED_FROM, f"Re: [#{ticket.number}] Crown fitting"),
                            channel="eml")
    message = raw_message.message
    assert message.ticket != ticket
    assert message.ticket.contact != linda and not message.ticket.contact.vip
    assert "mallory@evil.example" in [e.email for e in message.ticket.contact.emails.all()]


def test_it_reads_the_real_address_in_the_last_resort_reader_too():
    # _salvage is what reads a mail no MIME parser copes with; it must not decode before parsing either.
    from lbsup.intake.mailparse import _Limits, _salvage

    parsed = _salvage(mail(SPOOFED_FROM, "Hello"), _Limits(10_000, 10_000, 5), "test")
    assert parsed.from_email == "mallory@evil.example"
