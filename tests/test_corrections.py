"""End to end: corrected and retracted posts reach the messages readers already have."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import Newsbot
from tests.conftest import StartBot
from tests.delivery.helpers import counts_are, is_inactive
from tests.double import TelegramDouble
from tests.helpers import WritePost, eventually

WHEN = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
CHATS = (1, 2)
URL = "https://www.example-news.com/a"


async def delivered(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, **meta: object
) -> Newsbot:
    """A bot that has delivered post `a` to both chats."""
    bot = await start_bot()
    for chat in CHATS:
        await bot.store.subscribe(chat, "private", None)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", origin_url=URL, **meta)
    await eventually(lambda: all(double.messages_to(c) for c in CHATS))
    await eventually(counts_are(bot, {"sent": len(CHATS)}))
    return bot


def revisions(bot: Newsbot) -> list[tuple[str | None, str | None]]:
    """Each delivery's waiting revision and last error, in the order they were queued."""
    with sqlite3.connect(bot.settings.database) as db:
        return db.execute("SELECT revision, last_error FROM deliveries ORDER BY id").fetchall()


def age_deliveries(bot: Newsbot, hours: float) -> None:
    """Pretend the deliveries were sent `hours` ago."""
    with sqlite3.connect(bot.settings.database) as db:
        db.execute("UPDATE deliveries SET sent_at = ?", (time.time() - hours * 3600,))


async def test_a_corrected_headline_edits_the_delivered_messages(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await delivered(double, start_bot, write_post, title="Qauke hits coast")
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Quake hits coast",
               origin_url=URL)  # fmt: skip
    for chat in CHATS:
        await eventually(lambda c=chat: "Quake hits coast" in double.texts_to(c)[0])
        [message] = double.messages_to(chat)  # edited in place, not sent again
        assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Read more"
    assert len(double.calls("editMessageText")) == len(CHATS)


async def test_a_new_lead_image_replaces_the_photo(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    old = double.serve_file("old.jpg", b"\xff\xd8\xff" + b"\x00" * 64, "image/jpeg")
    new = double.serve_file("new.jpg", b"\xff\xd8\xff" + b"\x01" * 64, "image/jpeg")
    await delivered(double, start_bot, write_post, title="Story", image=old)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Story", image=new)
    await eventually(lambda: len(double.calls("editMessageMedia")) == len(CHATS))
    assert all(r.status == 200 for r in double.calls("editMessageMedia"))


async def test_a_new_image_telegram_cannot_fetch_is_uploaded_once_for_all_chats(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    old = double.serve_file("old.jpg", b"\xff\xd8\xff" + b"\x00" * 64, "image/jpeg")
    new = double.serve_file("new.jpg", b"\xff\xd8\xff" + b"\x01" * 64, "image/jpeg")
    double.unfetchable_urls.add(new)
    bot = await delivered(double, start_bot, write_post, title="Story", image=old)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Story", image=new)
    await eventually(
        lambda: len([r for r in double.calls("editMessageMedia") if r.status == 200]) == 2
    )
    edits = [r for r in double.calls("editMessageMedia") if r.status == 200]
    uploads = [r for r in edits if r.params["media"]["media"].startswith("attach://")]
    assert len(uploads) == 1
    await eventually(
        lambda: all(revision is None for revision, _ in revisions(bot)),
        description="the new image recorded for both messages",
    )
    media_edits = len(double.calls("editMessageMedia"))
    # Both readers' messages now show the new image, and a later headline fix leaves it be.
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Story, fixed",
               image=new)  # fmt: skip
    await eventually(lambda: len(double.calls("editMessageCaption")) == len(CHATS))
    assert len(double.calls("editMessageMedia")) == media_edits


async def test_a_new_image_that_cannot_be_had_corrects_the_caption_alone(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    old = double.serve_file("old.jpg", b"\xff\xd8\xff" + b"\x00" * 64, "image/jpeg")
    broken = f"{double.url}/files/missing.jpg"
    double.unfetchable_urls.add(broken)
    await delivered(double, start_bot, write_post, title="Story", image=old)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Story, fixed",
               image=broken)  # fmt: skip
    await eventually(lambda: len(double.calls("editMessageCaption")) == len(CHATS))
    assert all("Story, fixed" in double.texts_to(c)[0] for c in CHATS)
    assert all(double.messages_to(c)[0].get("photo") for c in CHATS)


async def test_a_change_after_the_edit_window_leaves_messages_alone(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await delivered(double, start_bot, write_post, title="Old headline")
    age_deliveries(bot, 72)
    before = (await bot.store.seen_posts())["A"]
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="New headline")
    bot.rescan()

    async def change_taken_in() -> bool:
        return (await bot.store.seen_posts())["A"] != before

    await eventually(change_taken_in, description="the new headline taken in by the queue")
    assert revisions(bot) == [(None, None)] * len(CHATS)  # no correction asked for
    assert not double.calls("editMessageText")
    assert all("Old headline" in double.texts_to(c)[0] for c in CHATS)


async def test_a_retracted_post_is_deleted_from_every_chat(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await delivered(double, start_bot, write_post, title="Wrong story")
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Wrong story",
               retracted=True)  # fmt: skip
    for chat in CHATS:
        await eventually(lambda c=chat: double.messages_to(c) == [])
    await eventually(counts_are(bot, {"deleted": len(CHATS)}))


async def test_a_retraction_too_old_to_delete_says_retracted(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await delivered(double, start_bot, write_post, title="Wrong story")
    age_deliveries(bot, 50)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Wrong story",
               retracted=True)  # fmt: skip
    for chat in CHATS:
        await eventually(lambda c=chat: double.texts_to(c)[0].startswith("Retracted"))
        [message] = double.messages_to(chat)
        assert "Wrong story" in message["text"] and "reply_markup" not in message
    assert not double.calls("deleteMessage")


async def test_a_retraction_cancels_copies_not_yet_sent(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(rate=2)
    chats = list(range(100, 120))
    for chat in chats:
        await bot.store.subscribe(chat, "private", None)
    write_post("a.md", "Text.", date=WHEN, code="A", title="Wrong story")
    await eventually(lambda: len(double.sent) >= 2)
    write_post("a.md", "Text.", date=WHEN, code="A", title="Wrong story", retracted=True)
    await eventually(lambda: all(double.messages_to(c) == [] for c in chats), timeout=10)

    async def all_settled() -> dict[str, int] | None:
        counts = await bot.store.delivery_counts()
        return counts if "pending" not in counts and "sent" not in counts else None

    counts = await eventually(all_settled, description="no copy left pending or sent")
    assert counts["cancelled"] >= 10


async def test_unpublishing_a_sent_post_withdraws_it(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await delivered(double, start_bot, write_post, title="Early story")
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Early story",
               origin_url=URL, published=False)  # fmt: skip
    for chat in CHATS:
        await eventually(lambda c=chat: double.messages_to(c) == [])


async def test_a_vanished_file_is_no_retraction(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, content: Path
) -> None:
    bot = await delivered(double, start_bot, write_post, title="Story")
    await bot.stop()
    with sqlite3.connect(bot.settings.database) as db:
        db.execute("UPDATE deliveries SET revision = 'update'")  # a correction was waiting...
    (content / "a.md").unlink()  # ...when the file went away
    bot = await start_bot()
    await eventually(
        lambda: revisions(bot) == [(None, "post gone")] * len(CHATS),
        description="the waiting corrections dropped, the post being gone",
    )
    assert not double.calls("editMessageText") and not double.calls("deleteMessage")
    assert all("Story" in double.texts_to(c)[0] for c in CHATS)
    assert await bot.store.delivery_counts() == {"sent": len(CHATS)}


async def test_corrections_wait_out_flood_control_and_drop_chats_that_are_gone(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await delivered(double, start_bot, write_post, title="Qauke hits coast")
    double.fail_next("editMessageText", status=429, retry_after=1, chat_id=1)
    double.fail_next("editMessageText", status=400, description="Bad Request: chat not found",
                     chat_id=2)  # fmt: skip
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Quake hits coast",
               origin_url=URL)  # fmt: skip
    started = time.monotonic()
    await eventually(lambda: "Quake hits coast" in double.texts_to(1)[0], timeout=10)
    assert time.monotonic() - started >= 0.9  # not before Telegram's second was up
    assert "Qauke hits coast" in double.texts_to(2)[0]

    await eventually(is_inactive(bot, 2))


async def test_with_paid_broadcasts_corrections_keep_to_the_free_rate(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    chats = range(1, 46)
    bot = await start_bot(rate=200)  # above 30: broadcasts are paid, edits cannot be
    for chat in chats:
        await bot.store.subscribe(chat, "private", None)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Qauke hits coast")
    await eventually(lambda: all(double.messages_to(c) for c in chats), timeout=10)
    write_post("a.md", "The first paragraph.", date=WHEN, code="A", title="Quake hits coast")
    await eventually(lambda: len(double.calls("editMessageText")) == len(chats), timeout=10)
    times = sorted(call.at for call in double.calls("editMessageText"))
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 30
