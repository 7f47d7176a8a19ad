"""Bridges stored tickets and the plain-Python assist engine: builds its inputs,
keeps each workspace's trained model, and caches it per process."""

import datetime
import threading
import time

from django.db.models import Max

from lbsup.assist.classifier import CategoryModel, train_category_model
from lbsup.assist.results import (
    HistoryItem,
    MessageInput,
    Sender,
    ThreadMessage,
    TriageContext,
)
from lbsup.playbooks.active import active_playbook
from lbsup.tickets.models import Direction, Ticket

from .models import LabelledExample, TrainedModel

HISTORY_DAYS = 60
THREAD_MESSAGES = 20
# Attachment text is read only to look for instructions aimed at an AI (lbsup/assist/injection.py).
ATTACHMENT_TEXT_BYTES = 20_000

_cache_lock = threading.Lock()
_model_cache = {}  # workspace id -> (TrainedModel pk, CategoryModel)


def training_examples(workspace, playbook):
    """The playbook's examples plus every category correction a person made here."""
    known = {c.slug for c in playbook.categories}
    corrections = [
        (text, label)
        for text, label in LabelledExample.objects.filter(
            workspace=workspace, kind=LabelledExample.Kind.CATEGORY
        ).values_list("text", "label")
        if label in known
    ]
    return playbook.training_examples() + corrections, len(corrections)


def train_workspace_model(workspace):
    version, playbook = active_playbook(workspace)
    examples, corrections = training_examples(workspace, playbook)
    started = time.perf_counter()
    model = train_category_model(examples)
    record = TrainedModel.objects.create(
        workspace=workspace, playbook_version=version, version=model.version, examples=len(examples),
        corrections=corrections, train_seconds=time.perf_counter() - started, blob=model.to_bytes(),
    )
    with _cache_lock:
        _model_cache[workspace.pk] = (record.pk, model)
    return record, model


def workspace_model(workspace):
    """The newest model trained on the active playbook, training one if there is none."""
    version, _ = active_playbook(workspace)
    record_pk = (
        TrainedModel.objects.filter(workspace=workspace, playbook_version=version).aggregate(pk=Max("pk"))["pk"]
    )
    if record_pk is None:
        return train_workspace_model(workspace)[1]
    with _cache_lock:
        cached = _model_cache.get(workspace.pk)
    if cached and cached[0] == record_pk:
        return cached[1]
    try:
        model = CategoryModel.from_bytes(bytes(TrainedModel.objects.values_list("blob", flat=True).get(pk=record_pk)))
    except ValueError:  # stored by an earlier version of the classifier: train anew on the same examples
        return train_workspace_model(workspace)[1]
    with _cache_lock:
        _model_cache[workspace.pk] = (record_pk, model)
    return model


def message_input(message):
    ticket = message.ticket
    earlier = ticket.messages.exclude(direction=Direction.NOTE).filter(created_at__lte=message.created_at)
    earlier = earlier.exclude(pk=message.pk).order_by("-created_at")[:THREAD_MESSAGES]
    thread = tuple(
        ThreadMessage(direction=m.direction, text=m.text, sent_at=m.created_at) for m in reversed(list(earlier))
    )
    contact = message.author_contact or ticket.contact
    return MessageInput(
        subject=ticket.subject,
        body=message.text,
        sender=Sender(email=contact.primary_email if contact else "", name=contact.name if contact else ""),
        received_at=message.created_at,
        thread=thread,
        quoted=message.quoted_text,
        attachments=_attachment_texts(message),
    )


def _attachment_texts(message):
    """(file name, text) of the message's stored text attachments; binary formats are not read."""
    texts = []
    for attachment in message.attachments.filter(content_type__startswith="text/").exclude(file=""):
        try:
            with attachment.file.open("rb") as handle:
                raw = handle.read(ATTACHMENT_TEXT_BYTES)
        except OSError:  # a file missing from storage leaves nothing to read, not a failed triage
            continue
        texts.append((attachment.filename, raw.decode("utf-8", errors="replace")))
    return tuple(texts)


def triage_context(ticket):
    contact = ticket.contact
    since = ticket.created_at - datetime.timedelta(days=HISTORY_DAYS)
    history = (
        Ticket.objects.filter(workspace_id=ticket.workspace_id, contact=contact, created_at__gte=since)
        .exclude(pk=ticket.pk)
        .exclude(category="")
        .values_list("category", "created_at")
    )
    return TriageContext(
        vip=contact.vip,
        sensitive=contact.sensitive,
        history=tuple(HistoryItem(category=c, opened_at=t) for c, t in history),
    )


