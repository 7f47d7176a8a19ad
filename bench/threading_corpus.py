"""A threading corpus: conversations as real mail clients write them, in shuffled order, with the
right ticket of every reply known. Written to a directory with a manifest that bench/ingest.py reads
to report replies on the right ticket, tickets created against expected, and messages duplicated or lost.

    .venv/bin/python bench/threading_corpus.py /tmp/threads -n 2000
    .venv/bin/python bench/ingest.py --workspace bench-threads --eml-dir /tmp/threads

Every conversation starts with a customer's mail to the support address (a third with a colleague on
Cc). Its replies, each naming its parent the way one kind of client does:
- the customer writing again on her own thread ("forgot the photo"), with full References;
- the colleague on Cc replying all (To the customer and us);
- References stripped: In-Reply-To only;
- Outlook: "RE:" subject, In-Reply-To only, a Thread-Index header;
- References only, no In-Reply-To;
- Gmail-style shortened References (first and last two of a long chain).
No reply carries a [#N] tag or our reply address, so only Message-IDs can thread them; the files are
shuffled, so a reply often arrives before the mail it answers. Nothing else changes from run to run
(fixed seed)."""

import argparse
import json
import random
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

SUPPORT = "help@bench-threads.example"
FIRST = ["Maria", "Tom", "Lena", "Peter", "Nina", "Ola", "Kim", "Dan", "Åsa", "François", "Taro", "Priya",
         "José", "Chloé", "Ahmed", "Zoë", "Liam", "Noah", "Emma", "Sofia", "Yuki", "Björn", "Ines", "Omar"]
DOMAINS = ["gmail.example", "outlook.example", "icloud.example", "corp.example", "web.example"]
SUBJECTS = ["Broken tap in the kitchen", "Order 4471 has not arrived", "Move my cleaning to Friday",
            "Invoice 2231 looks wrong", "Crown still hurts", "Return label please", "Quote for a new boiler",
            "Can I pay in two parts?", "Wrong size delivered", "Question about my bill"]
FIRST_LINES = ["Hello, I need help with this.", "Hi, can you look into this please?", "Good morning,",
               "Hi there, following up on this.", "Dear team,"]
REPLY_KINDS = ["self", "reply_all", "stripped", "outlook", "references_only", "short_references"]
REPLY_SHARE = 0.28  # of all messages, as in issue #18's corpus (561 of 2,000)


def _message(message_id, sender, to, subject, body, date, *, cc=(), in_reply_to=None, references=(), extra=None):
    mail = EmailMessage()
    mail["From"] = formataddr(sender)
    mail["To"] = ", ".join(to)
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(date)
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{ref}>" for ref in references)
    for name, value in (extra or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()


def make_threads(directory, count, seed=20261207):
    import datetime

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    start = datetime.datetime(2026, 11, 2, 8, 0, tzinfo=datetime.timezone.utc)
    files, thread_of, kinds = [], {}, {}
    thread = 0
    while len(files) < count:
        thread += 1
        domain = rng.choice(DOMAINS)
        customer = (f"{rng.choice(FIRST)} Customer{thread}", f"customer{thread}@{domain}")
        colleague = (f"{rng.choice(FIRST)} Colleague{thread}", f"colleague{thread}@{domain}")
        with_cc = rng.random() < 1 / 3
        subject = rng.choice(SUBJECTS)
        date = start + datetime.timedelta(minutes=7 * thread)
        root = f"t{thread}.root@{domain}"
        chain = [root]
        files.append(_message(root, customer, [SUPPORT], subject, f"{rng.choice(FIRST_LINES)}\n\n{subject}.",
                              date, cc=[formataddr(colleague)] if with_cc else ()))
        thread_of[root], kinds[root] = thread, "first"
        # replies per conversation: 0 for most, so that about REPLY_SHARE of all messages are replies
        replies = 0
        while rng.random() < REPLY_SHARE and replies < 6:
            replies += 1
        for number in range(1, replies + 1):
            if len(files) >= count:
                break
            kind = rng.choice([k for k in REPLY_KINDS if with_cc or k != "reply_all"])
            parent = chain[-1] if rng.random() < 0.7 else rng.choice(chain)
            chain_to_parent = chain[:chain.index(parent) + 1]
            message_id = f"t{thread}.r{number}@{domain}"
            sender, to, cc = customer, [SUPPORT], [formataddr(colleague)] if with_cc else []
            reply_subject, in_reply_to, references, extra = f"Re: {subject}", parent, chain_to_parent, None
            if kind == "reply_all":
                sender, to, cc = colleague, [formataddr(customer), SUPPORT], []
            elif kind == "stripped":
                references = ()
            elif kind == "outlook":
                reply_subject, references = f"RE: {subject}", ()
                extra = {"Thread-Index": "AQHZ" + f"{thread:08x}{number:04x}", "X-Mailer": "Microsoft Outlook 16.0"}
            elif kind == "references_only":
                in_reply_to = None
            elif kind == "short_references" and len(chain_to_parent) > 3:
                references = [chain_to_parent[0], *chain_to_parent[-2:]]
            body = ("Forgot the photo, sorry!" if kind == "self" else "Adding to this.") + \
                f"\n\nOn an earlier day, someone wrote:\n> {subject}"
            files.append(_message(message_id, sender, to, reply_subject, body,
                                  date + datetime.timedelta(minutes=3 * number), cc=cc, in_reply_to=in_reply_to,
                                  references=references, extra=extra))
            chain.append(message_id)
            thread_of[message_id], kinds[message_id] = thread, kind
    order = list(range(len(files)))
    rng.shuffle(order)  # arrival order: a reply often comes in before the mail it answers
    for position, index in enumerate(order):
        (directory / f"{position:06d}.eml").write_bytes(files[index])
    replies = sum(1 for kind in kinds.values() if kind != "first")
    manifest = {"messages": len(files), "threads": thread, "replies": replies, "support_address": SUPPORT,
                "thread_of": thread_of, "kind_of": kinds}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=0))
    print(f"wrote {len(files)} messages in {thread} conversations ({replies} replies) to {directory}")


def score(manifest, stored, tickets, merged):
    """Prints the threading figures of one desk: `stored` is (Message-ID, ticket id) of every inbound
    message it holds, `tickets` how many it created, `merged` how many of those were merged away.
    A reply is on the right ticket when it is on the ticket of its conversation's first mail and that
    ticket holds no other conversation."""
    from collections import Counter, defaultdict

    thread_of, kind_of = manifest["thread_of"], manifest["kind_of"]
    stored = [(message_id, ticket) for message_id, ticket in stored if message_id in thread_of]
    copies = Counter(message_id for message_id, _ in stored)
    ticket_of = dict(stored)
    threads_on = defaultdict(set)  # ticket → conversations on it
    for message_id, ticket in stored:
        threads_on[ticket].add(thread_of[message_id])
    root_ticket = {thread_of[mid]: ticket_of.get(mid) for mid, kind in kind_of.items() if kind == "first"}
    right, by_kind = 0, Counter()
    for message_id, kind in kind_of.items():
        if kind == "first":
            continue
        ticket = ticket_of.get(message_id)
        if ticket is not None and ticket == root_ticket[thread_of[message_id]] and len(threads_on[ticket]) == 1:
            right += 1
            by_kind[kind] += 1
    kinds = Counter(kind for kind in kind_of.values() if kind != "first")
    print(f"threading: {right} of {manifest['replies']} replies on the right ticket "
          f"({right / max(1, manifest['replies']):.1%}); by kind: "
          + ", ".join(f"{kind} {by_kind[kind]}/{kinds[kind]}" for kind in sorted(kinds)))
    print(f"tickets: {tickets} created, {tickets - merged} after merges (expected {manifest['threads']}); "
          f"merged: {merged}; tickets holding two conversations: "
          f"{sum(1 for threads in threads_on.values() if len(threads) > 1)}")
    print(f"messages: {len(copies)} of {manifest['messages']} stored; duplicated "
          f"{sum(count - 1 for count in copies.values() if count > 1)}; lost "
          f"{len(set(thread_of) - set(copies))}")


def report(workspace, manifest):
    """What bench/ingest.py prints for a threading corpus: each figure counted from the database."""
    from lbsup.tickets.models import Direction, Message, Ticket

    stored = Message.objects.filter(workspace=workspace, direction=Direction.INBOUND).values_list("message_id",
                                                                                                  "ticket_id")
    tickets = Ticket.objects.filter(workspace=workspace)
    merges = any(field.name == "merged_into" for field in Ticket._meta.get_fields())  # not before issue #18
    score(manifest, list(stored), tickets.count(), tickets.exclude(merged_into=None).count() if merges else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("-n", type=int, default=2000, help="how many messages")
    args = parser.parse_args()
    make_threads(args.directory, args.n)


if __name__ == "__main__":
    main()
