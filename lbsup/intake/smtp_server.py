"""Inbound SMTP for lbsup: accepts mail only for known support addresses (refused at RCPT),
and answers 250 only after the raw bytes are committed to the database."""

import asyncio
import logging

from aiosmtpd.controller import Controller
from django.db import close_old_connections

from .actions import do_receive
from .addresses import workspace_for_recipient
from .models import InboundChannel

log = logging.getLogger(__name__)


def _workspace_id_for(address):
    close_old_connections()
    workspace = workspace_for_recipient(address)
    return workspace.pk if workspace else None


def _store(workspace_ids, raw, envelope):
    from lbsup.workspaces.models import Workspace

    from .tasks import process_raw_message_job

    close_old_connections()
    for workspace in Workspace.objects.filter(pk__in=workspace_ids):
        raw_message = do_receive(workspace, raw, channel=InboundChannel.SMTP, source=envelope)
        process_raw_message_job(raw_message.pk)


class InboundHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            workspace_id = await asyncio.to_thread(_workspace_id_for, address)
        except Exception:  # noqa: BLE001 - the database is away: a 5xx here would bounce the customer's mail
            log.exception("Could not look up the recipient %s", address)
            return "451 4.3.0 Temporary failure looking up the address, try again later"
        if workspace_id is None:
            return "550 5.1.1 No such support address here"
        envelope.rcpt_tos.append(address)
        envelope.workspace_ids = getattr(envelope, "workspace_ids", set()) | {workspace_id}
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        source = {"peer": str(session.peer[0]) if session.peer else "", "mail_from": envelope.mail_from,
                  "rcpt_to": list(envelope.rcpt_tos)}
        try:
            await asyncio.to_thread(_store, sorted(envelope.workspace_ids), envelope.original_content, source)
        except Exception:  # noqa: BLE001 - the sender keeps the message and retries
            log.exception("Could not store inbound mail")
            return "451 4.3.0 Temporary failure storing the message, try again later"
        return "250 2.0.0 Message stored"


def make_controller(host, port, data_size_limit=30 * 1024 * 1024):
    return Controller(InboundHandler(), hostname=host, port=port, data_size_limit=data_size_limit,
                      decode_data=False)
