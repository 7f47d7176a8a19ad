"""Malformed mail through the whole ingest action, on the real database: every message ends
stored (processed, duplicate or filtered, with its ticket message) or rejected with a reason.

200 examples by default; LBSUP_FUZZ_EXAMPLES=N runs N (LBSUP_FUZZ_RANDOM=1 draws a fresh seed).
"""

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lbsup.intake.actions import do_ingest
from lbsup.intake.models import InboundChannel, RawMessage

from .test_mailparse_fuzz import mutated_fixtures, nested_multiparts, synthetic_messages

EXAMPLES = int(os.environ.get("LBSUP_FUZZ_EXAMPLES", "200"))
STORED = {RawMessage.State.PROCESSED, RawMessage.State.DUPLICATE, RawMessage.State.FILTERED}

any_mail = st.one_of(st.binary(max_size=3000), synthetic_messages(), nested_multiparts(), mutated_fixtures())


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("LBSUP_FUZZ_RANDOM") is None,
    # One workspace for all examples on purpose: earlier examples become duplicates and
    # threading targets of later ones, as in a real mailbox.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(raw=any_mail, channel=st.sampled_from(InboundChannel.values))
def test_it_stores_or_rejects_every_malformed_message_with_a_reason(personas, raw, channel):
    raw_message = do_ingest(personas.dental, raw, channel=channel, source={"fuzz": True})
    raw_message.refresh_from_db()
    event(f"state: {raw_message.state}")  # shown by --hypothesis-show-statistics
    assert bytes(raw_message.raw) == raw
    if raw_message.state == RawMessage.State.REJECTED:
        assert raw_message.detail.strip()
        return
    assert raw_message.state in STORED, (raw_message.state, raw_message.detail)
    if raw_message.state == RawMessage.State.FILTERED:
        assert raw_message.detail and raw_message.message is None
    else:
        assert raw_message.message.workspace_id == personas.dental.pk
        assert raw_message.message.ticket.contact is not None
