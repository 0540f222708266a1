"""End to end: an editor's live report of a broadcast, "Stop", /progress, and a restart.

The bot sends to 500 chats through the Bot API double with flood control on (it answers 429
with `retry_after` when the bot goes faster than the double's limits), while the report is
edited in place; every figure the report ends with is checked against the ledger.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from bot.app import Newsbot
from bot.store import STOPPED
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    EDITOR,
    STRANGER,
    ask,
    confirmation,
    editors_bot,
    handled,
    received,
)
from tests.helpers import eventually

READERS = range(10_001, 10_501)
HEADLINE = "Dam spillway opened"
#: The chats of `editors_bot` that get breaking news, and the 500 readers.
AUDIENCE = 4 + len(READERS)
SENT = re.compile(r"Sent: (\d+) of (\d+)")


async def many_readers(bot: Newsbot) -> None:
    for chat in READERS:
        await bot.store.subscribe(chat, "private", None)


async def send_breaking(double: TelegramDouble, *, flood: int | None = None) -> int:
    """Draft a breaking item, then press "Send" with flood control on; the id of the message
    that becomes the report.

    With `flood`, the bot (paying for 200 messages a second) meets an overall limit of `flood`
    a second and is refused whenever it goes faster. Without, the limits are Telegram's own
    for a bot that keeps to 30 a second, and one send in twenty is refused at random, as a busy
    Telegram does: answers to the editor then have room between the broadcast's messages.
    """
    await ask(double, f"/breaking {HEADLINE}\nResidents downstream are told to move.")
    message_id, buttons = confirmation(double, EDITOR)
    # On from here: the double counts the card and the question to the editor (two messages
    # in one second to a private chat) as Telegram's flood control would not.
    if flood is None:
        double.enforce_flood_limits()
        double.scatter_faults(refused=0.05, retry_after=(1, 2))
    else:
        double.enforce_flood_limits(global_per_second=flood, paid_per_second=flood)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    return message_id


def message(double: TelegramDouble, message_id: int) -> dict[str, Any]:
    [found] = [m for m in double.messages_to(EDITOR) if m["message_id"] == message_id]
    return found


def report_edits(double: TelegramDouble, message_id: int) -> list[tuple[float, str]]:
    """Every edit of the report's message: (when, text)."""
    return [
        (record.at, str(record.params.get("text")))
        for record in double.sent
        if record.method == "editMessageText"
        and record.chat_id == EDITOR
        and record.params.get("message_id") == message_id
    ]


def buttons(double: TelegramDouble, message_id: int) -> dict[str, str]:
    rows = message(double, message_id).get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def post_id(bot: Newsbot) -> str:
    [report] = await bot.store.running_reports() or [None]
    assert report is not None
    return report.post_id


async def final(
    bot: Newsbot, double: TelegramDouble, message_id: int, words: str, timeout: float
) -> str:
    """Wait for the report's final text and return it: the report is finished (only once its
    final text was shown), and it has no button left."""

    async def done() -> str | None:
        if await bot.store.running_reports():
            return None
        text = str(message(double, message_id)["text"])
        return text if words in text and not buttons(double, message_id) else None

    return await eventually(done, timeout, description=f"a final report with {words!r}")


def delivered(double: TelegramDouble) -> int:
    """How many readers' chats have the breaking item."""
    return sum(received(double, chat, HEADLINE) for chat in (*READERS, 42, 43, 44, -1001))


async def test_a_broadcast_is_reported_live_and_ends_with_the_ledgers_figures(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    bot = await editors_bot(start_bot)
    await many_readers(bot)
    report = await send_breaking(double, flood=60)
    text = await final(bot, double, report, "went out", timeout=90)

    edits = report_edits(double, report)
    progress = [int(m.group(1)) for _, t in edits[:-1] if (m := SENT.search(t))]
    assert len(progress) >= 3, edits  # the first text, then edits while it went out
    assert progress == sorted(progress) and progress[-1] < AUDIENCE
    assert any("Rate:" in t and "left" in t for _, t in edits[1:-1])
    # Edited at most every few seconds: the loop looks every 3 s (the first text is the press's).
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(edits[1:])]
    assert gaps and min(gaps) >= 2.9, gaps
    assert double.flood_errors > 0  # flood control was met on the way

    [breaking] = [p for p in bot.library.posts if p.title == HEADLINE]
    counts = await bot.store.delivery_counts(breaking.id)
    assert counts == {"sent": AUDIENCE}
    assert f"went out: {AUDIENCE} of {AUDIENCE} chats have it" in text
    assert SENT.search(text) is not None and SENT.search(text).groups() == (  # type: ignore[union-attr]
        str(AUDIENCE),
        str(AUDIENCE),
    )
    assert delivered(double) == AUDIENCE


async def test_stop_asks_first_then_halts_what_is_not_sent_and_keeps_what_was(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    bot = await editors_bot(start_bot, rate=30)
    await many_readers(bot)
    report = await send_breaking(double)
    await eventually(lambda: "Stop" in buttons(double, report), description="the Stop button")
    post = await post_id(bot)

    # Somebody else pressing an editor's button is refused, and nothing stops.
    double.press_button(EDITOR, report, buttons(double, report)["Stop"], STRANGER)
    await eventually(lambda: any("Only the newsroom" in str(a) for a in double.callback_answers))

    # "Stop" asks first, in a message of its own; "Keep sending" leaves the broadcast going.
    double.press_button(EDITOR, report, buttons(double, report)["Stop"], EDITOR)
    question = await eventually(lambda: _newest_with(double, "Keep sending"))
    assert "Stop sending" in question["text"] and "stay sent" in question["text"]
    keep = buttons(double, question["message_id"])["Keep sending"]
    double.press_button(EDITOR, question["message_id"], keep, EDITOR)
    await eventually(lambda: "goes on" in message(double, question["message_id"])["text"])
    assert "cancelled" not in await bot.store.delivery_counts(post)

    async def some_sent() -> bool:
        return (await bot.store.delivery_counts(post)).get("sent", 0) >= 30

    await eventually(some_sent, 30)
    double.press_button(EDITOR, report, buttons(double, report)["Stop"], EDITOR)
    question = await eventually(lambda: _newest_with(double, "Yes, stop it"))
    yes = buttons(double, question["message_id"])["Yes, stop it"]
    double.press_button(EDITOR, question["message_id"], yes, EDITOR)
    said = await eventually(
        lambda: _text_if(message(double, question["message_id"]), "Stopped:"), 10
    )

    text = await final(bot, double, report, "was stopped by an editor", timeout=30)
    counts = await bot.store.delivery_counts(post)
    assert counts.keys() == {"sent", "cancelled"} and sum(counts.values()) == AUDIENCE
    sent, stopped = counts["sent"], counts["cancelled"]
    assert stopped > AUDIENCE // 2  # most of it never went
    assert f"{stopped} chats will not get it" in text and f"The {sent} messages sent" in text
    assert SENT.search(text).groups() == (str(sent), str(AUDIENCE))  # type: ignore[union-attr]
    assert delivered(double) == sent  # nothing went out after the final figures
    # The answer to "Yes" counted what it stopped; messages on their way may still have gone.
    stopped_now = int(re.search(r"Stopped: (\d+)", said).group(1))  # type: ignore[union-attr]
    assert stopped <= stopped_now
    reasons = await bot.store.figures(post)
    assert reasons.stopped == stopped and STOPPED not in reasons.not_delivered
    # The buttons are gone with the broadcast, and /progress lists nothing.
    assert not buttons(double, question["message_id"]) and not buttons(double, report)
    assert await handled(double, EDITOR, "/progress") == "No broadcast is running now."


async def test_a_restart_keeps_editing_the_same_report(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    bot = await editors_bot(start_bot, rate=30)
    await many_readers(bot)
    report = await send_breaking(double)
    await eventually(lambda: len(report_edits(double, report)) >= 2, 15)  # a loop's edit
    post = await post_id(bot)
    await bot.stop()
    messages_before = len(double.messages_to(EDITOR))

    again = await start_bot(admin_ids=frozenset({EDITOR}), subscribe_backlog=0, rate=30)
    assert [r.message_id for r in await again.store.running_reports()] == [report]
    double.disable_flood_limits()
    double.scatter_faults()
    text = await final(again, double, report, "went out", timeout=60)
    assert len(double.messages_to(EDITOR)) == messages_before  # the same message, edited
    counts = await again.store.delivery_counts(post)
    assert counts == {"sent": AUDIENCE}
    assert SENT.search(text).groups() == (str(AUDIENCE), str(AUDIENCE))  # type: ignore[union-attr]


async def test_progress_lists_the_broadcasts_running_now_for_editors_only(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    bot = await editors_bot(start_bot, rate=30)
    await many_readers(bot)
    assert await handled(double, EDITOR, "/progress") == "No broadcast is running now."
    report = await send_breaking(double)
    await eventually(lambda: "Stop" in buttons(double, report))
    post = await post_id(bot)
    answer = await handled(double, EDITOR, "/progress")
    assert answer.startswith("Broadcasts running now: 1") and post in answer
    assert SENT.search(answer) is not None and f"of {AUDIENCE}" in answer
    listing = double.messages_to(EDITOR)[-1]
    assert buttons(double, listing["message_id"]) == {f"Stop {post}": "adm:stop:1"}
    assert "editors" in await handled(double, STRANGER, "/progress")  # refused
    double.disable_flood_limits()
    double.scatter_faults()
    await final(bot, double, report, "went out", timeout=60)


def _newest_with(double: TelegramDouble, button: str) -> dict[str, Any] | None:
    for found in reversed(double.messages_to(EDITOR)):
        rows = found.get("reply_markup", {}).get("inline_keyboard", [])
        if any(b["text"] == button for row in rows for b in row):
            return found
    return None


def _text_if(found: dict[str, Any], words: str) -> str | None:
    text = str(found.get("text", ""))
    return text if words in text else None
