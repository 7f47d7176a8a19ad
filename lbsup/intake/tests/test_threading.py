"""Threading on everything the workspace knows, each rule and each refusal, one mail at a time and
in a batch (an IMAP poll): maria is the dental clinic's patient, carol her colleague on Cc,
mallory a stranger; the shop is another workspace."""

import pytest

from lbsup.audit.models import AuditEvent
from lbsup.intake.actions import do_ingest, do_ingest_batch
from lbsup.intake.addresses import reply_address
from lbsup.outbound.actions import Unsendable, build_email, do_approve_and_send
from lbsup.tickets.actions import do_merge_tickets
from lbsup.tickets.models import Status, Ticket
from lbsup.workspaces.models import Workspace

CLINIC = "hello@brightsmile.example"


def mail(message_id, sender="maria@mailbox.example", *, to=CLINIC, cc="", subject="Crown", in_reply_to="",
         references=None, body="Hello"):
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: <{message_id}>",
               "Date: Mon, 7 Dec 2026 09:00:00 +0000", "Content-Type: text/plain; charset=utf-8"]
    if cc:
        headers.append(f"Cc: {cc}")
    if in_reply_to:
        headers.append(f"In-Reply-To: <{in_reply_to}>")
    refs = [in_reply_to] if references is None and in_reply_to else references or []
    if refs:
        headers.append("References: " + " ".join(f"<{ref}>" for ref in refs))
    return ("\r\n".join(headers) + f"\r\n\r\n{body} ({message_id})\r\n").encode()


def one_by_one(workspace, raws):
    return [do_ingest(workspace, raw, channel="imap") for raw in raws]


def in_a_batch(workspace, raws):
    return [item.raw_message for item in do_ingest_batch(workspace, raws, channel="imap")]


@pytest.fixture(params=[one_by_one, in_a_batch], ids=["one by one", "in a batch"])
def ingest(request):
    return request.param


def ticket_of(raw_message):
    raw_message.refresh_from_db()
    assert raw_message.state == "processed", raw_message.detail
    return Ticket.objects.get(pk=raw_message.message.ticket_id)


def test_it_threads_a_customer_reply_to_her_own_mail(personas, ingest):
    first, again = ingest(personas.dental, [
        mail("m1@mailbox.example"),
        mail("m2@mailbox.example", subject="forgot the photo", in_reply_to="m1@mailbox.example")])
    assert ticket_of(again) == ticket_of(first)
    assert again.message.thread_reason == "replies to message <m1@mailbox.example>"


def test_it_threads_a_reply_all_from_a_colleague_on_cc(personas, ingest):
    first, carol = ingest(personas.dental, [
        mail("m1@mailbox.example", cc="Carol <carol@partner.example>"),
        mail("c1@partner.example", "carol@partner.example", to=f"maria@mailbox.example, {CLINIC}",
             in_reply_to="m1@mailbox.example")])
    ticket = ticket_of(first)
    assert ticket_of(carol) == ticket
    assert ticket.participants == ["maria@mailbox.example", "carol@partner.example"]


def test_it_refuses_a_stranger_who_names_a_message_id_of_the_ticket(personas, ingest):
    first, mallory = ingest(personas.dental, [
        mail("m1@mailbox.example"),
        mail("x1@evil.example", "mallory@evil.example", in_reply_to="m1@mailbox.example")])
    assert ticket_of(mallory) != ticket_of(first)
    assert "refused: replies to message <m1@mailbox.example>: sender mallory@evil.example is not on ticket" in \
        mallory.message.thread_reason


def test_it_never_threads_on_a_message_id_of_another_workspace(personas, ingest):
    (shop_mail,) = ingest(personas.shop, [mail("s1@mailbox.example", "sam@mailbox.example", to="help@northwind.example")])
    (reply,) = ingest(personas.dental, [mail("s2@mailbox.example", "sam@mailbox.example",
                                             in_reply_to="s1@mailbox.example")])
    assert ticket_of(reply).workspace == personas.dental
    assert reply.message.thread_reason == "new ticket"
    assert ticket_of(shop_mail).messages.count() == 1


def test_it_joins_a_reply_that_arrived_before_the_mail_it_answers(personas, ingest):
    early, parent = ingest(personas.dental, [
        mail("c1@partner.example", "carol@partner.example", to=f"maria@mailbox.example, {CLINIC}",
             in_reply_to="m1@mailbox.example"),
        mail("m1@mailbox.example", cc="carol@partner.example")])
    ticket = ticket_of(parent)
    assert ticket_of(early) == ticket and ticket.contact.primary_email == "maria@mailbox.example"
    assert ticket.messages.count() == 2 and ticket.participants == ["maria@mailbox.example", "carol@partner.example"]
    assert "merged in: its reply <c1@partner.example> answers this message" in parent.detail


def test_it_merges_two_early_replies_when_their_parent_arrives(personas, ingest):
    maria, carol, parent = ingest(personas.dental, [
        mail("m2@mailbox.example", in_reply_to="m1@mailbox.example", subject="Re: Crown"),
        mail("c1@partner.example", "carol@partner.example", to=f"maria@mailbox.example, {CLINIC}",
             in_reply_to="m1@mailbox.example", subject="Re: Crown"),
        mail("m1@mailbox.example", cc="carol@partner.example")])
    target = ticket_of(parent)
    assert ticket_of(maria) == target and ticket_of(carol) == target
    assert target.contact.primary_email == "maria@mailbox.example" and target.messages.count() == 3
    merged = list(Ticket.objects.filter(workspace=personas.dental, merged_into=target))
    assert len(merged) == 2
    for ticket in merged:
        assert ticket.status == Status.CLOSED and ticket.messages.count() == 0
        event = AuditEvent.objects.get(verb="ticket.merged", target_id=str(ticket.pk))
        assert event.data["into"] == target.number and len(event.data["messages"]) == 1
    assert parent.detail.count("merged in") == 2


def test_it_does_not_pull_a_strangers_early_reply_onto_the_ticket(personas, ingest):
    mallory, parent = ingest(personas.dental, [
        mail("x1@evil.example", "mallory@evil.example", in_reply_to="m1@mailbox.example"),
        mail("m1@mailbox.example")])
    assert ticket_of(parent) != ticket_of(mallory)
    assert parent.message.thread_reason == "new ticket"
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_it_threads_a_reply_to_a_merged_ticket_onto_the_one_it_went_into(personas, ingest):
    (other,) = ingest(personas.dental, [mail("m9@mailbox.example", subject="Second question")])
    source = ticket_of(other)
    do_merge_tickets(personas.alice, source, personas.dental_ticket)
    (reply,) = ingest(personas.dental, [mail("m10@mailbox.example", to=reply_address(personas.dental, source))])
    assert ticket_of(reply) == personas.dental_ticket


def test_it_threads_by_subject_only_where_the_workspace_asks(personas, ingest):
    ticket = personas.dental_ticket  # "Move my cleaning", maria's, open
    (off,) = ingest(personas.dental, [mail("r1@mailbox.example", subject="RE: Move my cleaning")])
    assert ticket_of(off) != ticket
    Ticket.objects.filter(pk=ticket_of(off).pk).update(status=Status.RESOLVED)  # resolved: never matched
    Workspace.objects.filter(pk=personas.dental.pk).update(thread_by_subject_days=14)
    personas.dental.refresh_from_db()
    on, stranger = ingest(personas.dental, [
        mail("r2@mailbox.example", subject="AW: Re: move my  cleaning"),
        mail("r3@evil.example", "mallory@evil.example", subject="Re: Move my cleaning")])
    assert ticket_of(on) == ticket
    assert "weakest rule" in on.message.thread_reason
    assert ticket_of(stranger) != ticket
    (not_a_reply,) = ingest(personas.dental, [mail("r4@mailbox.example", subject="Move my cleaning")])
    assert ticket_of(not_a_reply) != ticket


def test_it_copies_the_conversations_participants_on_the_reply(personas):
    first = do_ingest(personas.dental, mail("m1@mailbox.example", cc="carol@partner.example, hello+x@brightsmile.example"),
                      channel="imap")
    ticket = ticket_of(first)
    assert ticket.participants == ["maria@mailbox.example", "carol@partner.example"]  # ours left out
    outbound = do_approve_and_send(personas.alice, ticket, text="We can see you Tuesday.")
    assert outbound.cc_emails == ["carol@partner.example"]
    assert build_email(outbound).message()["Cc"] == "carol@partner.example"
    without = do_approve_and_send(personas.alice, ticket, text="Only to Maria.", cc=[])
    assert without.cc_emails == [] and "Cc" not in build_email(without).message()
    with pytest.raises(Unsendable, match="Only people on the conversation"):
        do_approve_and_send(personas.alice, ticket, text="Leak", cc=["mallory@evil.example"])


def test_it_refuses_to_merge_across_workspaces_or_into_itself(personas):
    with pytest.raises(ValueError, match="another workspace"):
        do_merge_tickets(personas.alice, personas.shop_ticket, personas.dental_ticket)
    with pytest.raises(ValueError, match="itself"):
        do_merge_tickets(personas.alice, personas.dental_ticket, personas.dental_ticket)
