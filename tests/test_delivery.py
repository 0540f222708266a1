"""End to end: the real bot against the Bot API double, delivering posts through faults."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import Newsbot
from bot.settings import Settings
from bot.store import Status, Store
from tests.conftest import StartBot
from tests.double import DEFAULT_GROUP_USER_ID, TelegramDouble
from tests.helpers import WritePost

#: Posts in these tests are dated an hour ago: new enough to be pushed whenever the suite runs.
RECENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def recent(**meta: object) -> dict[str, object]:
    """Front matter fields with a recent date."""
    meta.setdefault("date", RECENT)
    return meta


async def subscribe(double: TelegramDouble, *chats: int) -> None:
    """Send /start from each chat and wait for the bot's confirmation."""
    for chat in chats:
        double.send_command(chat, "/start")
    for chat in chats:
        await double.wait_for(lambda c=chat: any("ubscribed" in t for t in double.texts_to(c)))


async def settled(bot: Newsbot, expected: dict[str, int]) -> None:
    """Wait (five seconds at most) until the delivery counts are `expected`.

    Telegram's answer reaches the bot a moment after the double recorded the message, and the
    outcome is written a moment after that.
    """
    for _ in range(250):
        counts = await bot.store.delivery_counts()
        if counts == expected:
            return
        await asyncio.sleep(0.02)
    assert counts == expected


def headlines(double: TelegramDouble, chat: int, title: str) -> int:
    """How many messages with this headline the chat has received."""
    return sum(title in text for text in double.texts_to(chat))


async def test_new_post_reaches_every_subscriber_once(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    write_post("old.md", title="Archive story", date=RECENT)
    bot = await start_bot(subscribe_backlog=0)
    double.set_member_status(-1001, DEFAULT_GROUP_USER_ID, "administrator")
    await subscribe(double, 1, 2, -1001)
    write_post("new.md", title="Fresh story", **recent())
    for chat in (1, 2, -1001):
        await double.wait_for(lambda c=chat: headlines(double, c, "Fresh story") == 1)
    bot.rescan()
    await double.wait_for(lambda: bot.library.get("new") is not None)
    assert all(headlines(double, c, "Archive story") == 0 for c in (1, 2, -1001))
    await settled(bot, {Status.SENT: 3})


async def test_categories_decide_who_gets_a_post(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot()
    await bot.store.subscribe(10, "private", None, ["world"])
    await bot.store.subscribe(11, "private", None, ["business"])
    write_post("w.md", title="World story", category="World", **recent())
    await double.wait_for(lambda: headlines(double, 10, "World story") == 1)
    write_post("b.md", title="Money story", category="Business", **recent())
    await double.wait_for(lambda: headlines(double, 11, "Money story") == 1)
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
    await double.wait_for(lambda: headlines(double, 1, "Marker story") == 1)
    assert headlines(double, 1, "Embargoed story") == 0
    await double.wait_for(lambda: headlines(double, 1, "Embargoed story") == 1, timeout=6)
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
    await double.wait_for(lambda: headlines(double, 1, "Overnight story") == 1)


async def test_graceful_restart_mid_broadcast_loses_and_repeats_nothing(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    chats = list(range(1000, 1060))
    bot = await start_bot(rate=40)
    for chat in chats:
        await bot.store.subscribe(chat, "private", None)
    write_post("big.md", title="Big story", **recent())
    await double.wait_for(lambda: len(double.sent) >= 10)
    await bot.stop()
    stopped_at = sum(headlines(double, c, "Big story") for c in chats)
    assert stopped_at < len(chats)  # the stop really came mid-broadcast
    bot = await start_bot(rate=200)
    await double.wait_for(lambda: all(headlines(double, c, "Big story") for c in chats), timeout=10)
    assert [headlines(double, c, "Big story") for c in chats] == [1] * len(chats)
    await settled(bot, {Status.SENT: len(chats)})


async def test_commands_are_answered_while_a_broadcast_runs(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(rate=30)
    for chat in range(2000, 2300):  # ten seconds of sending at 30 messages a second
        await bot.store.subscribe(chat, "private", None)
    write_post("big.md", title="Big story", **recent())
    await double.wait_for(lambda: len(double.sent) >= 5)
    double.send_command(42, "/start")
    await double.wait_for(lambda: any("ubscribed" in t for t in double.texts_to(42)), timeout=3)
    assert len(double.sent) < 300  # the broadcast was still running


# --- faults --------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048


async def subscribed_bot(start_bot: StartBot, *chats: int, **overrides: object) -> Newsbot:
    """A started bot with these chats subscribed to everything (negative ids are groups)."""
    bot = await start_bot(**overrides)
    for chat in chats:
        await bot.store.subscribe(chat, "private" if chat > 0 else "supergroup", None)
    return bot


async def test_flood_control_delays_the_chat_and_keeps_the_message(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await subscribed_bot(start_bot, 1, 2)
    double.fail_next("sendMessage", status=429, retry_after=1, chat_id=1)
    write_post("a.md", title="Story", **recent())
    await double.wait_for(lambda: headlines(double, 2, "Story") == 1)
    await double.wait_for(lambda: headlines(double, 1, "Story") == 1, timeout=5)
    refused, delivered = (r for r in double.requests if r.params.get("chat_id") == 1)
    assert refused.status == 429 and delivered.status == 200
    assert delivered.at - refused.at >= 0.9  # Telegram's retry_after was honoured


async def test_server_errors_are_retried_with_backoff(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1)
    double.server_error_next("sendMessage", times=2)
    write_post("a.md", title="Story", **recent())
    await double.wait_for(lambda: headlines(double, 1, "Story") == 1)
    assert [r.status for r in double.calls("sendMessage")] == [502, 502, 200]
    await double.wait_for(lambda: bot.sender.sent == 1)


async def test_a_delivery_that_keeps_failing_is_marked_failed_with_its_reason(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2)
    double.fail_next(
        "sendMessage", status=500, description="Internal Server Error", times=9, chat_id=1
    )
    write_post("a.md", title="Story", **recent())
    await double.wait_for(lambda: headlines(double, 2, "Story") == 1)
    await double.wait_for(lambda: bot.sender.failed == 1)
    assert len(double.calls("sendMessage")) == 4 + 1  # four attempts for chat 1, one for chat 2
    await settled(bot, {Status.SENT: 1, Status.FAILED: 1})


async def test_a_timed_out_send_is_retried(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await subscribed_bot(start_bot, 1, request_timeout=0.3)
    double.delay_next("sendMessage", 1.0, drop=True)
    write_post("a.md", title="Story", **recent())
    await double.wait_for(lambda: headlines(double, 1, "Story") == 1, timeout=8)
    assert len(double.calls("sendMessage")) >= 2


async def test_blocked_and_vanished_chats_are_deactivated_and_can_come_back(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2, 3)
    double.forbidden_chats.add(1)
    double.missing_chats.add(2)
    write_post("a.md", title="First story", **recent())
    await double.wait_for(lambda: headlines(double, 3, "First story") == 1)
    for chat in (1, 2):
        state = await bot.store.chat(chat)
        assert state is not None and not state.active and state.categories == {"*"}
    double.forbidden_chats.clear()
    double.send_command(1, "/start")
    await double.wait_for(lambda: any("Welcome back" in t for t in double.texts_to(1)))
    write_post("b.md", title="Second story", **recent())
    await double.wait_for(lambda: headlines(double, 1, "Second story") == 1)
    assert headlines(double, 1, "First story") == 0
    assert headlines(double, 2, "Second story") == 0


async def test_a_group_that_became_a_supergroup_gets_the_post_at_its_new_id(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, -100)
    double.migrations[-100] = -1001
    write_post("a.md", title="Story", **recent())
    await double.wait_for(lambda: headlines(double, -1001, "Story") == 1)
    assert await bot.store.chat(-100) is None
    moved = await bot.store.chat(-1001)
    assert moved is not None and moved.active


async def test_an_image_telegram_cannot_fetch_is_uploaded_once_for_all_chats(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    image = double.serve_file("lead.jpg", JPEG, "image/jpeg")
    double.unfetchable_urls.add(image)
    chats = (1, 2, 3, 4)
    await subscribed_bot(start_bot, *chats)
    write_post("a.md", title="Photo story", image=image, **recent())
    await double.wait_for(lambda: all(headlines(double, c, "Photo story") for c in chats))
    photos = [r for r in double.calls("sendPhoto") if r.status == 200]
    uploads = [r for r in photos if not isinstance(r.params["photo"], str)]
    assert len(uploads) == 1
    assert all(r.params["photo"] != image for r in photos)
    assert [headlines(double, c, "Photo story") for c in chats] == [1] * len(chats)
    assert all(double.messages_to(c)[-1].get("photo") for c in chats)


async def test_an_image_that_cannot_be_had_at_all_sends_the_text_card(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    broken = f"{double.url}/files/missing.jpg"
    double.unfetchable_urls.add(broken)
    await subscribed_bot(start_bot, 1, 2)
    write_post(
        "a.md", "Paragraph.", title="Story", image=broken, origin_url="https://ex.com/a", **recent()
    )
    await double.wait_for(
        lambda: headlines(double, 1, "Story") + headlines(double, 2, "Story") == 2
    )
    for chat in (1, 2):
        [message] = double.messages_to(chat)
        assert "photo" not in message and "Paragraph." in message["text"]


async def test_telegrams_flood_limits_are_never_hit(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    double.enforce_flood_limits(global_per_second=30, private_per_second=1, group_per_minute=20)
    chats = [*range(1, 41), -1001]
    await subscribed_bot(start_bot, *chats, rate=30)
    write_post("a.md", title="Story one", **recent())
    write_post("b.md", title="Story two", **recent())
    await double.wait_for(
        lambda: all(headlines(double, c, "Story") == 2 for c in chats), timeout=15
    )
    assert double.flood_errors == 0
    group_times = [r.at for r in double.sent if r.chat_id == -1001]
    assert group_times[1] - group_times[0] >= 2.9  # 20 a minute to one group


async def test_stop_does_not_wait_out_a_long_flood_pause(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, bot_settings: Settings
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2)
    double.fail_next("sendMessage", status=429, retry_after=60)
    write_post("a.md", title="Story", **recent())
    await double.wait_for(lambda: double.calls("sendMessage"))  # the refused first try
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
    await double.wait_for(lambda: len(double.sent) >= 20, timeout=10)
    write_post("b.md", title="Second story", **recent())  # new work arrives mid-broadcast
    await double.wait_for(
        lambda: all(headlines(double, c, "Second story") for c in chats), timeout=20
    )
    await double.wait_for(lambda: all(headlines(double, c, "First story") for c in chats))
    assert [headlines(double, c, "First story") for c in chats] == [1] * len(chats)
    assert [headlines(double, c, "Second story") for c in chats] == [1] * len(chats)
    await double.wait_for(lambda: bot.sender.pending_outcomes == 0)


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
    for _ in range(250):
        chat = await bot.store.chat(-1002)
        if chat is not None and not chat.active:
            break
        await asyncio.sleep(0.02)
    assert chat is not None and not chat.active


async def test_broadcasts_above_the_free_rate_are_paid_and_replies_are_not(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await subscribed_bot(start_bot, 1, rate=200)
    write_post("a.md", title="Paid story", **recent())
    await double.wait_for(lambda: headlines(double, 1, "Paid story") == 1)
    double.send_command(1, "/latest")
    await double.wait_for(lambda: headlines(double, 1, "Paid story") == 2)
    await bot.stop()
    await subscribed_bot(start_bot, 2, rate=30)
    write_post("b.md", title="Free story", **recent())
    await double.wait_for(lambda: headlines(double, 2, "Free story") == 1)

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
    await double.wait_for(
        lambda: all(headlines(double, c, "Photo story") == 1 for c in chats), timeout=15
    )
    assert double.flood_errors == 0
