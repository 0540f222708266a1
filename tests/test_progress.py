"""A broadcast's progress as editors read it, from the ledger: the report's text, when it is
over, stopping, and /progress, with plain values and a real database."""

from __future__ import annotations

from bot.i18n import catalogue
from bot.progress import Broadcasts, duration, rate
from bot.store import Figures, NewPost, Outcome, Status, Store

EN, TH = catalogue("en"), catalogue("th")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def broadcast(store: Store, chats: int = 10) -> list[int]:
    for chat in range(1, chats + 1):
        await store.subscribe(chat, "private", None)
    await store.add_posts([NewPost("BRK1", "digest", ("breaking",), everyone=True)])
    return [d.id for d in await store.queue(limit=1000)]


def test_durations_and_the_rate() -> None:
    assert duration(EN, 7.4) == "7 s"
    assert duration(EN, 200) == "3 min 20 s"
    assert duration(EN, 2 * 3600 + 300) == "2 h 5 min"
    assert duration(TH, 200) == "3 นาที 20 วินาที"
    assert rate(Figures(sent=1, first_sent=0.0, recent=1), now=10.0) is None  # too early
    assert rate(Figures(sent=20, first_sent=0.0, recent=20), now=10.0) == 2.0
    assert rate(Figures(sent=100, first_sent=0.0, recent=30), now=100.0) == 1.0  # last 30 s


async def test_the_report_while_it_goes_out_and_when_it_is_over(store: Store) -> None:
    ids = await broadcast(store)
    clock = Clock(1_000.0)
    broadcasts = Broadcasts(store, clock=clock)
    first = await broadcasts.open("BRK1", "breaking", after=0, chat_id=7, message_id=9, texts=EN)
    assert first is not None and not first.over
    assert first.text.splitlines()[:3] == [
        EN("admin.sent_breaking", post="BRK1", count=10),
        "Sent: 0 of 10 (0%)",
        "Rate: not known yet",
    ]
    await store.record(
        [Outcome(i, Status.SENT, message_id=i) for i in ids[:4]]
        + [
            Outcome(ids[4], Status.FAILED, error="Bad Request: chat not found"),
            Outcome(ids[5], Status.PENDING, error="RetryAfter: retry in 5", not_before=2e9),
        ]
    )
    clock.now = 2_000_000_000.0 - 1  # figures as of now: the wait is still ahead
    now = await broadcasts.snapshot(first.report)
    lines = now.text.splitlines()
    assert "Sent: 4 of 10 (40%)" in lines
    assert "Not delivered: 1" in lines and "  Bad Request: chat not found: 1 chats" in lines
    assert "Waiting on Telegram's flood control: 1" in lines
    assert any(line.startswith("Rate: ") for line in lines) and not now.over

    await store.record([Outcome(i, Status.SENT, message_id=i) for i in ids[5:]])
    done = await broadcasts.snapshot(first.report)
    assert done.over
    assert done.text.splitlines()[0] == "Breaking news BRK1 went out: 9 of 10 chats have it."
    assert "Rate" not in done.text and done.text.splitlines()[-1].startswith("Took ")


async def test_a_stopped_report_waits_for_messages_on_their_way(store: Store) -> None:
    ids = await broadcast(store)
    clock = Clock(1_000.0)
    broadcasts = Broadcasts(store, clock=clock, settle=20.0)
    first = await broadcasts.open("BRK1", "breaking", after=0, chat_id=7, message_id=9, texts=TH)
    assert first is not None
    await store.record([Outcome(i, Status.SENT, message_id=i) for i in ids[:3]])
    asked = await broadcasts.ask_stop(first.report.id, EN)
    assert asked.stopped and asked.text == EN(
        "progress.confirm_stop", post="BRK1", pending=7, sent=3
    )
    assert await broadcasts.keep(first.report.id, EN) == "Sending BRK1 goes on."
    stopped = await broadcasts.stop(first.report.id, editor=7, texts=EN)
    assert stopped.stopped and stopped.text.startswith("Stopped: 7 chats will not get BRK1.")
    report = await store.report(first.report.id)
    assert report is not None
    waiting = await broadcasts.snapshot(report)
    assert not waiting.over  # messages on their way may still be recorded
    assert TH("progress.stopping") in waiting.text  # in the editor's language
    clock.now += 20.0
    final = await broadcasts.snapshot(report)
    assert final.over and final.text.startswith(
        TH("progress.stopped", post="BRK1", stopped=7, sent=3)
    )
    again = await broadcasts.stop(first.report.id, editor=7, texts=EN)
    assert not again.stopped and again.text == EN("progress.over", post="BRK1")


async def test_progress_lists_every_broadcast_running(store: Store) -> None:
    broadcasts = Broadcasts(store)
    assert await broadcasts.running(EN) == (EN("progress.none"), [])
    await broadcast(store, chats=3)
    after = await store.last_delivery_id()
    await store.add_posts([NewPost("P2", "digest", ("world",))])
    opened = await broadcasts.open("P2", "push", after=after, chat_id=7, message_id=9, texts=EN)
    assert opened is not None
    text, stoppable = await broadcasts.running(EN)
    assert text.startswith("Broadcasts running now: 2")
    assert "BRK1: a new post going out to 3 chats." in text  # found by a scan: no report
    assert EN("admin.sent_push", post="P2", count=3) in text
    assert [r.post_id for r in stoppable] == ["P2"]
