"""One delivery and what Telegram's answer makes of it, end to end: flood control, server
errors, timeouts, chats that are gone or moved, and cards refused as they are."""

from __future__ import annotations

import json
import sqlite3

from bot.app import Newsbot
from bot.store import Status
from tests.conftest import StartBot
from tests.delivery.helpers import (
    RECENT,
    counts_are,
    headlines,
    is_inactive,
    recent,
    subscribed_bot,
)
from tests.double import TelegramDouble
from tests.helpers import WritePost, eventually


async def test_flood_control_delays_the_chat_and_keeps_the_message(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await subscribed_bot(start_bot, 1, 2)
    double.fail_next("sendMessage", status=429, retry_after=1, chat_id=1)
    write_post("a.md", title="Story", **recent())
    await eventually(lambda: headlines(double, 2, "Story") == 1)
    await eventually(lambda: headlines(double, 1, "Story") == 1, timeout=5)
    refused, delivered = (r for r in double.requests if r.params.get("chat_id") == 1)
    assert refused.status == 429 and delivered.status == 200
    assert delivered.at - refused.at >= 0.9  # Telegram's retry_after was honoured


async def test_server_errors_are_retried_with_backoff(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1)
    double.server_error_next("sendMessage", times=2)
    write_post("a.md", title="Story", **recent())
    await eventually(lambda: headlines(double, 1, "Story") == 1)
    assert [r.status for r in double.calls("sendMessage")] == [502, 502, 200]
    await eventually(lambda: bot.sender.sent == 1)


async def test_a_delivery_that_keeps_failing_is_marked_failed_with_its_reason(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2)
    double.fail_next(
        "sendMessage", status=500, description="Internal Server Error", times=9, chat_id=1
    )
    write_post("a.md", title="Story", **recent())
    await eventually(lambda: headlines(double, 2, "Story") == 1)
    await eventually(lambda: bot.sender.failed == 1)
    assert len(double.calls("sendMessage")) == 4 + 1  # four attempts for chat 1, one for chat 2
    await eventually(counts_are(bot, {Status.SENT: 1, Status.FAILED: 1}))


async def test_a_timed_out_send_is_retried(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await subscribed_bot(start_bot, 1, request_timeout=0.3)
    double.delay_next("sendMessage", 1.0, drop=True)
    write_post("a.md", title="Story", **recent())
    await eventually(lambda: headlines(double, 1, "Story") == 1, timeout=8)
    assert len(double.calls("sendMessage")) >= 2


async def test_blocked_and_vanished_chats_are_deactivated_and_can_come_back(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2, 3)
    double.forbidden_chats.add(1)
    double.missing_chats.add(2)
    write_post("a.md", title="First story", **recent())
    await eventually(lambda: headlines(double, 3, "First story") == 1)
    for chat in (1, 2):
        await eventually(is_inactive(bot, chat))
        state = await bot.store.chat(chat)
        assert state is not None and state.categories == {"*"}  # the settings are kept
    double.forbidden_chats.clear()
    double.send_command(1, "/start")
    await eventually(lambda: any("Welcome back" in t for t in double.texts_to(1)))
    write_post("b.md", title="Second story", **recent())
    await eventually(lambda: headlines(double, 1, "Second story") == 1)
    assert headlines(double, 1, "First story") == 0
    assert headlines(double, 2, "Second story") == 0


async def test_a_group_that_became_a_supergroup_gets_the_post_at_its_new_id(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, -100)
    double.migrations[-100] = -1001
    write_post("a.md", title="Story", **recent())
    await eventually(lambda: headlines(double, -1001, "Story") == 1)
    assert await bot.store.chat(-100) is None
    moved = await bot.store.chat(-1001)
    assert moved is not None and moved.active


async def test_a_channel_that_took_away_posting_rights_is_deactivated(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, -1002)
    double.fail_next(
        "sendMessage",
        status=400,
        description="Bad Request: need administrator rights in the channel chat",
    )
    write_post("a.md", title="Story", **recent())
    await eventually(is_inactive(bot, -1002))


async def test_a_card_telegram_refuses_as_it_is_fails_at_once(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2)
    refusal = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    double.fail_next("sendMessage", status=400, description=refusal, chat_id=1)
    write_post("a.md", title="Story", **recent())
    await eventually(counts_are(bot, {Status.SENT: 1, Status.FAILED: 1}))
    assert bot.sender.failed == 1
    assert [r.status for r in double.calls("sendMessage") if r.params["chat_id"] == 1] == [400]
    chat = await bot.store.chat(1)
    assert chat is not None and chat.active  # the card was at fault, not the chat


async def test_every_copy_of_a_timed_out_send_is_kept_and_a_retraction_deletes_them_all(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, request_timeout=0.3)
    double.delay_next("sendMessage", 1.0)  # carried out, but answered after the bot gave up
    write_post("a.md", title="Story", date=RECENT, code="A")
    await eventually(lambda: headlines(double, 1, "Story") == 2, timeout=8)  # the retry too

    first, second = (m["message_id"] for m in double.messages_to(1))
    await eventually(lambda: _kept(bot) == {first, second})
    write_post("a.md", title="Story", date=RECENT, code="A", retracted=True)
    await eventually(lambda: double.messages_to(1) == [], timeout=8)
    await eventually(counts_are(bot, {Status.DELETED: 1}))


def _kept(bot: Newsbot) -> set[int]:
    """Every message id the database keeps for the chat's deliveries."""
    with sqlite3.connect(bot.settings.database) as db:
        rows = db.execute("SELECT message_id, copies FROM deliveries").fetchall()
    return {m for message_id, copies in rows for m in (message_id, *json.loads(copies or "[]"))}
