"""lbsup triage --workspace SLUG [--json] [FILE|-]   or   --jsonl [FILE|-]"""

import dataclasses
import json
import sys

from dateutil import parser as date_parser
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lbsup.assist.drafts import ContactFacts, draft_reply
from lbsup.assist.encoder import load_encoder
from lbsup.assist.results import MessageInput, Sender
from lbsup.assist.triage import triage, triage_batch
from lbsup.intake.mailparse import MailRejected, parse_message
from lbsup.playbooks.active import NoActivePlaybook, active_playbook
from lbsup.triage.engine import workspace_model
from lbsup.workspaces.models import Workspace

MAX_INPUT_BYTES = 10 * 1024 * 1024


def looks_like_mail(raw):
    head = raw[:2000].decode("ascii", errors="replace")
    first = head.split("\n", 1)[0]
    return ":" in first and " " not in first.split(":", 1)[0] and ("\nFrom:" in head or head.startswith("From:")
                                                                   or "\nSubject:" in head)


def message_from_bytes(raw):
    if looks_like_mail(raw):
        try:
            mail = parse_message(raw)
        except MailRejected as error:
            raise CommandError(f"not a usable message: {error.reason}")
        return MessageInput(
            subject=mail.subject, body=mail.new_text or mail.text,
            sender=Sender(email=mail.from_email or "", name=mail.from_name), received_at=mail.date or timezone.now(),
        )
    return MessageInput(subject="", body=raw.decode("utf-8", errors="replace"), sender=Sender(),
                        received_at=timezone.now())


def message_from_json(line_number, line):
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise ValueError("expected a JSON object")
        sent = item.get("date")
        received = date_parser.isoparse(sent) if sent else timezone.now()
        if timezone.is_naive(received):
            received = timezone.make_aware(received, timezone.utc)
        return MessageInput(subject=str(item.get("subject", "")), body=str(item.get("text", "")),
                            sender=Sender(email=str(item.get("from", ""))), received_at=received)
    except (ValueError, TypeError, OverflowError) as error:
        raise CommandError(f"line {line_number}: {error}")


class Command(BaseCommand):
    help = "Triage one .eml or plain-text message (or JSON lines) with a workspace's active playbook."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--jsonl", action="store_true",
                            help="read JSON objects (subject, text, from, date), one per line; write one result per line")
        parser.add_argument("file", nargs="?", default="-")

    def handle(self, *args, workspace, jsonl, file, **options):
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace {workspace!r}")
        try:
            _, playbook = active_playbook(target)
        except NoActivePlaybook as error:
            raise CommandError(str(error))
        model = workspace_model(target)
        stream = sys.stdin.buffer if file == "-" else open(file, "rb")
        with stream:
            if jsonl:
                self._jsonl(stream, playbook, model)
                return
            raw = stream.read(MAX_INPUT_BYTES + 1)
        if len(raw) > MAX_INPUT_BYTES:
            raise CommandError(f"input is larger than {MAX_INPUT_BYTES} bytes")
        message = message_from_bytes(raw)
        result = with_draft(message, triage(message, playbook, model), playbook)
        self.stdout.write(dumps(result.to_dict(), indent=2) if options["json"] else describe(result))

    def _jsonl(self, stream, playbook, model):
        batch = []
        for number, line in enumerate(stream, start=1):
            if line.strip():
                batch.append(message_from_json(number, line.decode("utf-8", errors="replace")))
            if len(batch) == 64:
                self._write_batch(batch, playbook, model)
                batch = []
        self._write_batch(batch, playbook, model)

    def _write_batch(self, batch, playbook, model):
        for message, result in zip(batch, triage_batch(batch, playbook, model) if batch else []):
            self.stdout.write(dumps(with_draft(message, result, playbook).to_dict()))


def with_draft(message, result, playbook):
    if result.auto_reply.detected:
        return result
    draft = draft_reply(message, result, playbook, contact=ContactFacts(email=message.sender.email),
                        encoder=load_encoder())
    summary = {"reply_id": draft.reply_id, "text": draft.text, "missing": list(draft.missing),
               "checks": [c.to_dict() for c in draft.checks]}
    return dataclasses.replace(result, draft=summary)


def dumps(data, indent=None):
    return json.dumps(data, ensure_ascii=False, indent=indent, default=str)


def describe(result):
    lines = [
        f"category:   {result.category} ({result.confidence:.0%})"
        + (f"  — then {', '.join(f'{a.category} {a.probability:.0%}' for a in result.alternatives[:2])}"
           if result.alternatives else ""),
        f"why:        {result.category_evidence.model}: {', '.join(result.category_evidence.words) or '—'}",
        f"signals:    complaint {result.complaint:.2f}, frustration {result.frustration:.2f}, "
        f"urgency {result.urgency}, language {result.language}",
        f"team:       {result.team}   priority: {result.priority}",
        f"escalate:   {'yes' if result.escalate else 'no'}",
    ]
    lines += [f"  - {r.rule}: {', '.join(r.evidence)}" for r in result.escalation_reasons]
    if result.details:
        lines.append("details:")
        lines += [f"  - {d.kind}: {d.value!r} → {d.normalized} [{d.span[0]}:{d.span[1]}]" for d in result.details]
    if result.draft:
        lines.append(f"draft ({result.draft['reply_id'] or 'no reply'}):")
        lines += [f"  | {line}" for line in result.draft["text"].splitlines()]
        if result.draft["missing"]:
            lines.append(f"  missing: {', '.join(result.draft['missing'])}")
    if result.next_steps:
        lines.append("next steps:")
        lines += [f"  {i}. {step}" for i, step in enumerate(result.next_steps, 1)]
    return "\n".join(lines)
