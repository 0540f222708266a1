"""The sender's loop, end to end: which delivery goes when, at Telegram's pace, through stops
and restarts, with commands answered all along."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from bot.store import Status, Store
from tests.conftest import StartBot
from tests.delivery.helpers import (
    JPEG,
    RECENT,
    counts_are,
    headlines,
    recent,
    subscribe,
    subscribed_bot,
)
from tests.double import DEFAULT_GROUP_USER_ID, TelegramDouble
from tests.helpers import WritePost, eventually
from tests.postgres import each_engine

__all__ = ["each_engine"]  # every test here runs on both engines


async def test_new_post_reaches_every_subscriber_once(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    write_post("old.md", title="Archive story", date=RECENT)
    bot = await start_bot(subscribe_backlog=0)
    double.set_member_status(-1001, DEFAULT_GROUP_USER_ID, "administrator")
    await subscribe(double, 1, 2, -1001)
    write_post("new.md", title="Fresh story", **recent())
    for chat in (1, 2, -1001):
        await eventually(lambda c=chat: headlines(double, c, "Fresh story") == 1)
    bot.rescan()
    await eventually(lambda: bot.library.get("new") is not None)
    assert all(headlines(double, c, "Archive story") == 0 for c in (1, 2, -1001))
    await eventually(counts_are(bot, {Status.SENT: 3}))


async def test_categories_decide_who_gets_a_post(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot()
    await bot.store.subscribe(10, "private", None, ["world"])
    await bot.store.subscribe(11, "private", None, ["business"])
    write_post("w.md", title="World story", category="World", **recent())
    await eventually(lambda: headlines(double, 10, "World story") == 1)
    write_post("b.md", title="Money story", category="Business", **recent())
    await eventually(lambda: headlines(double, 11, "Money story") == 1)
    assert headlines(double, 11, "World story") == 0
    assert headlines(double, 10, "Money story") == 0


async def test_old_unpublished_and_future_posts_are_held_back(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot()
    await subscribe(double, 1)
    write_post("old.md", title="Old import", date="2020-01-01T00:00:00Z")
    write_post("draft.md", title="Draft story", published=False, **recent())
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    write_post("soon.md", title="Embargoed story", date=soon.isoformat())
    write_post("marker.md", title="Marker story", **recent())
    await eventually(lambda: headlines(double, 1, "Marker story") == 1)
    assert headlines(double, 1, "Embargoed story") == 0
    await eventually(lambda: headlines(double, 1, "Embargoed story") == 1, timeout=6)
    assert headlines(double, 1, "Old import") == 0
    assert headlines(double, 1, "Draft story") == 0
    assert (await bot.store.seen_posts()).keys() == {"old", "soon", "marker"}


async def test_post_written_while_the_bot_was_down_is_sent_at_start(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot()
    await subscribe(double, 1)
    await bot.stop()
    write_post("while-down.md", title="Overnight story", **recent())
    await start_bot()
    await eventually(lambda: headlines(double, 1, "Overnight story") == 1)


async def test_graceful_restart_mid_broadcast_loses_and_repeats_nothing(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    chats = list(range(1000, 1060))
    bot = await start_bot(rate=40)
    for chat in chats:
        await bot.store.subscribe(chat, "private", None)
    write_post("big.md", title="Big story", **recent())
    await eventually(lambda: len(double.sent) >= 10)
    await bot.stop()
    stopped_at = sum(headlines(double, c, "Big story") for c in chats)
    assert stopped_at < len(chats)  # the stop really came mid-broadcast
    bot = await start_bot(rate=200)
    await eventually(lambda: all(headlines(double, c, "Big story") for c in chats), timeout=10)
    assert [headlines(double, c, "Big story") for c in chats] == [1] * len(chats)
    await eventually(counts_are(bot, {Status.SENT: len(chats)}))


async def test_commands_are_answered_while_a_broadcast_runs(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(rate=30)
    for chat in range(2000, 2300):  # ten seconds of sending at 30 messages a second
        await bot.store.subscribe(chat, "private", None)
    write_post("big.md", title="Big story", **recent())
    await eventually(lambda: len(double.sent) >= 5)
    double.send_command(42, "/start")
    await eventually(lambda: any("ubscribed" in t for t in double.texts_to(42)), timeout=3)
    assert len(double.sent) < 300  # the broadcast was still running


async def test_telegrams_flood_limits_are_never_hit(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    double.enforce_flood_limits(global_per_second=30, private_per_second=1, group_per_minute=20)
    chats = [*range(1, 41), -1001]
    await subscribed_bot(start_bot, *chats, rate=30)
    write_post("a.md", title="Story one", **recent())
    write_post("b.md", title="Story two", **recent())
    await eventually(lambda: all(headlines(double, c, "Story") == 2 for c in chats), timeout=15)
    assert double.flood_errors == 0
    group_times = [r.at for r in double.sent if r.chat_id == -1001]
    assert group_times[1] - group_times[0] >= 2.9  # 20 a minute to one group


async def test_stop_does_not_wait_out_a_long_flood_pause(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, bot_settings: Settings
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2)
    double.fail_next("sendMessage", status=429, retry_after=60)
    write_post("a.md", title="Story", **recent())
    await eventually(lambda: double.calls("sendMessage"))  # the refused first try
    await asyncio.wait_for(bot.stop(), 5)
    store = await Store.open(bot_settings.database)
    assert (await store.delivery_counts()).get(Status.PENDING, 0) >= 1  # kept for the next run
    await store.close()


async def test_a_push_during_a_broadcast_repeats_nothing(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    chats = list(range(3000, 3100))
    bot = await subscribed_bot(start_bot, *chats, rate=60)
    double.delay_next("sendMessage", 0.15, times=1000)  # every answer takes a while
    write_post("a.md", title="First story", **recent())
    await eventually(lambda: len(double.sent) >= 20, timeout=10)
    write_post("b.md", title="Second story", **recent())  # new work arrives mid-broadcast
    await eventually(lambda: all(headlines(double, c, "Second story") for c in chats), timeout=20)
    await eventually(lambda: all(headlines(double, c, "First story") for c in chats))
    assert [headlines(double, c, "First story") for c in chats] == [1] * len(chats)
    assert [headlines(double, c, "Second story") for c in chats] == [1] * len(chats)
    await eventually(lambda: bot.sender.pending_outcomes == 0)


async def test_broadcasts_above_the_free_rate_are_paid_and_replies_are_not(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, rate=200)
    write_post("a.md", title="Paid story", **recent())
    await eventually(lambda: headlines(double, 1, "Paid story") == 1)
    double.send_command(1, "/latest")
    await eventually(lambda: headlines(double, 1, "Paid story") == 2)
    await bot.stop()
    await subscribed_bot(start_bot, 2, rate=30)
    write_post("b.md", title="Free story", **recent())
    await eventually(lambda: headlines(double, 2, "Free story") == 1)

    def paid(chat: int, text: str) -> list[object]:
        return [
            call.params.get("allow_paid_broadcast")
            for call in double.calls("sendMessage")
            if call.params["chat_id"] == chat and text in call.params["text"]
        ]

    assert paid(1, "Paid story") == [True, None]  # the broadcast, then the reply to /latest
    assert paid(2, "Free story") == [None]


async def test_every_call_of_a_broadcast_waits_its_turn_uploads_and_fallbacks_too(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    image = double.serve_file("lead.jpg", JPEG, "image/jpeg")
    double.unfetchable_urls.add(image)  # every chat's first try is refused, then an upload
    double.served_delay = 1.5  # a slow download: the other chats wait for it, then go at once
    double.enforce_flood_limits(global_per_second=4, private_per_second=1, group_per_minute=20)
    chats = tuple(range(1, 9))
    await subscribed_bot(start_bot, *chats, rate=4)
    write_post("a.md", title="Photo story", image=image, **recent())
    await eventually(
        lambda: all(headlines(double, c, "Photo story") == 1 for c in chats), timeout=15
    )
    assert double.flood_errors == 0
