"""Django's SMTP backend, able to reach a Unicode local part (josé@…) with SMTPUTF8.

Django 5.2 turns a non-ASCII local part into an RFC 2047 encoded word, in the envelope and
in To: an address no server delivers. Here such a message goes through smtplib's
send_message, which asks for SMTPUTF8 and writes the headers as UTF-8, and only when the
server offers it; otherwise it is refused before anything is sent."""

import email
import email.policy
import smtplib
from email import _header_value_parser as parser
from email.errors import HeaderParseError, NonASCIILocalPartDefect
from email.utils import parseaddr

from django.core.mail.backends import smtp
from django.core.mail.message import sanitize_address
from django.utils.encoding import punycode

DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"
THIS_BACKEND = f"{__name__}.EmailBackend"


class SmtpUtf8Missing(smtplib.SMTPNotSupportedError):
    pass


def addr_spec(value):
    """(local part, domain) of a bare address; ValueError when it is not one. The parser
    Django uses, with a Unicode local part allowed (RFC 6531) and nothing else let through."""
    if not value or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError(f"{value!r} is not an email address")
    try:
        spec, rest = parser.get_addr_spec(value)
    except (HeaderParseError, IndexError, ValueError):
        raise ValueError(f"{value!r} is not an email address") from None
    defects = [d for d in spec.all_defects if not isinstance(d, NonASCIILocalPartDefect)]
    if rest or defects or not spec.local_part or not spec.domain:
        raise ValueError(f"{value!r} is not an email address")
    try:
        punycode(spec.domain)
    except UnicodeError:
        raise ValueError(f"{value!r} has a domain that cannot be encoded for DNS") from None
    return spec.local_part, spec.domain


def needs_smtputf8(value):
    return not addr_spec(value)[0].isascii()


def _envelope(value):
    local, domain = addr_spec(value)
    return f"{local}@{punycode(domain)}"


class EmailBackend(smtp.EmailBackend):
    def offers_smtputf8(self):
        """Whether the server announces SMTPUTF8 in its EHLO answer (opens a connection if
        none is open; OSError or SMTPException when it cannot be reached)."""
        opened = self.open()
        try:
            self.connection.ehlo_or_helo_if_needed()
            return self.connection.has_extn("smtputf8")
        finally:
            if opened:
                self.close()

    def _send(self, email_message):
        recipients = email_message.recipients()
        if not recipients or not any(needs_smtputf8(r) for r in recipients):
            return super()._send(email_message)
        self.connection.ehlo_or_helo_if_needed()
        if not self.connection.has_extn("smtputf8"):
            raise SmtpUtf8Missing(f"The mail server does not offer SMTPUTF8, which {', '.join(recipients)} needs")
        # Django builds and checks the message (BadHeaderError); only the address headers it
        # mangled are written again, as UTF-8.
        message = email.message_from_bytes(email_message.message().as_bytes(), policy=email.policy.SMTP)
        for header, values in (("To", email_message.to), ("Cc", email_message.cc)):
            if values:
                del message[header]
                message[header] = ", ".join(_envelope(v) for v in values)
        sender = sanitize_address(email_message.from_email, email_message.encoding or "utf-8")
        _, sender_spec = parseaddr(sender)
        self.connection.send_message(message, from_addr=sender_spec, to_addrs=[_envelope(r) for r in recipients])
        return True
