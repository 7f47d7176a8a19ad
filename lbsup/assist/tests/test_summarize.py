from dataclasses import dataclass
from datetime import datetime, timezone

from lbsup.assist.results import ThreadMessage
from lbsup.assist.summarize import summarize_thread

THREAD = (
    ThreadMessage("inbound", "Hi. My order NW-104522 never arrived and tracking hasn't moved since Monday. Can you help?"),
    ThreadMessage("outbound", "Sorry about that! We'll open a trace with the carrier and send you an update tomorrow."),
    ThreadMessage("inbound", "Thanks. Could you also refund the shipping fee?"),
)


def test_it_says_who_asked_what_and_what_was_promised_with_sources():
    summary = summarize_thread(THREAD)
    roles = [s.role for s in summary.sentences]
    assert roles == ["request", "promise", "open"]
    request, promise, still_open = summary.sentences
    assert request.source_index == 0 and "tracking hasn't moved" in request.text
    assert request.text.startswith("Customer is complaining that their order")
    assert promise.source_index == 1 and "open a trace" in promise.text
    assert still_open.source_index == 2 and "refund the shipping fee" in still_open.text


def test_it_points_each_sentence_at_the_span_it_came_from():
    for sentence in summarize_thread(THREAD).sentences:
        start, end = sentence.span
        quoted = THREAD[sentence.source_index].text[start:end]
        last_words = " ".join(quoted.strip(" .?!").split()[-3:]).lower()
        assert last_words and last_words in sentence.text.lower()


def test_it_reads_tweetsumm_style_turns_and_strips_handles_and_links():
    turns = [{"role": "customer", "text": "@Acme my app crashes every time I open it https://t.co/x"},
             {"role": "agent", "text": "@123 Please DM us your device model and we'll look into it. ^JD"}]
    summary = summarize_thread(turns)
    assert "@" not in summary.text and "https" not in summary.text and "^JD" not in summary.text
    assert "Agent promised that please DM them" in summary.text


def test_it_leaves_nothing_open_when_the_business_answered_last():
    summary = summarize_thread(THREAD[:2])
    assert [s.role for s in summary.sentences] == ["request", "promise"]


def test_it_handles_empty_huge_and_garbage_threads():
    @dataclass
    class Item:
        direction: str
        text: str
        sent_at: datetime = datetime(2025, 1, 1, tzinfo=timezone.utc)
        author: str = "x"

    assert summarize_thread([]).sentences == ()
    huge = summarize_thread([Item("inbound", "why is this broken? " * 50_000), Item("outbound", "\x00" * 1000)] * 300)
    assert huge.messages == 200 and len(huge.text) < 1000
    assert summarize_thread([Item("inbound", "!!! ??? 123")]).sentences == ()


def test_it_says_each_point_once_when_the_customer_asks_again():
    thread = [{"direction": "inbound", "text": "Can I move my cleaning to Tuesday?"},
              {"direction": "outbound", "text": "We will check the calendar and call you back."},
              {"direction": "inbound", "text": "Can I move my cleaning to Tuesday??"}]
    summary = summarize_thread(thread)
    assert [s.role for s in summary.sentences] == ["request", "promise"]
    assert summary.text.lower().count("cleaning to tuesday") == 1
