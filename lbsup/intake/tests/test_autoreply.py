import pytest

from lbsup.intake.autoreply import AutoKind, detect_automatic_mail


@pytest.mark.parametrize(
    ("headers", "subject", "sender", "kind", "reason"),
    [
        ({"auto-submitted": "auto-replied"}, "Re: hello", "a@b.example", AutoKind.AUTO_REPLY,
         "header Auto-Submitted: auto-replied"),
        ({"x-autoreply": "yes"}, "Re: hello", "a@b.example", AutoKind.AUTO_REPLY, "header X-Autoreply: yes"),
        ({"x-autorespond": "1"}, "hello", "a@b.example", AutoKind.AUTO_REPLY, "header X-Autorespond: 1"),
        ({"x-auto-response-suppress": "All"}, "hello", "a@b.example", AutoKind.AUTO_REPLY,
         "header X-Auto-Response-Suppress: All"),
        ({"precedence": "auto_reply"}, "hello", "a@b.example", AutoKind.AUTO_REPLY, "header Precedence: auto_reply"),
        ({"precedence": "junk"}, "hello", "a@b.example", AutoKind.LIST, "header Precedence: junk"),
        ({"list-id": "<news.shop.example>"}, "News", "n@shop.example", AutoKind.LIST,
         "header List-Id: <news.shop.example>"),
        ({"list-unsubscribe": "<mailto:u@shop.example>"}, "News", "n@shop.example", AutoKind.LIST,
         "header List-Unsubscribe: <mailto:u@shop.example>"),
        ({"content-type": "multipart/report; report-type=delivery-status; boundary=x"}, "x", "a@b.example",
         AutoKind.BOUNCE, "Content-Type multipart/report; report-type=delivery-status"),
        ({}, "Warning", "MAILER-DAEMON@mx.example", AutoKind.BOUNCE,
         "sender MAILER-DAEMON@mx.example is a mail system address"),
        ({}, "Hi", "postmaster@mx.example", AutoKind.BOUNCE, "sender postmaster@mx.example is a mail system address"),
        ({"return-path": "<>"}, "Undeliverable: Your order", "a@b.example", AutoKind.BOUNCE,
         "empty Return-Path <> and subject words 'Undeliverable'"),
        ({}, "Delivery Status Notification (Failure)", "a@b.example", AutoKind.BOUNCE,
         "subject contains 'Delivery Status Notification'"),
        ({}, "Out of Office: Re: invoice", "a@b.example", AutoKind.OUT_OF_OFFICE, "subject contains 'Out of Office'"),
        ({}, "Abwesenheitsnotiz", "a@b.example", AutoKind.OUT_OF_OFFICE, "subject contains 'Abwesenheitsnotiz'"),
        ({}, "Automatic reply: invoice", "a@b.example", AutoKind.AUTO_REPLY, "subject contains 'Automatic reply'"),
    ],
)
def test_it_explains_why_mail_is_automatic(headers, subject, sender, kind, reason):
    detection = detect_automatic_mail(headers, subject=subject, from_email=sender)
    assert (detection.kind, detection.reason) == (kind, reason)


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({"auto-submitted": "no"}, "Re: my invoice"),
        ({"precedence": "first-class"}, "Question about my appointment"),
        ({"return-path": "<ana@customer.example>"}, "Office hours next week?"),
        ({}, "I was out of town, sorry for the late answer"),
    ],
)
def test_it_leaves_mail_written_by_people_alone(headers, subject):
    assert detect_automatic_mail(headers, subject=subject, from_email="ana@customer.example") is None


def test_it_renders_kinds_as_their_plain_names_for_storage():
    assert [str(kind) for kind in AutoKind] == ["auto_reply", "bounce", "list", "out_of_office"]
