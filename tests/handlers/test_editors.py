"""End to end: editors' breaking news, pushes, retractions and oversight."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    AUDIENCE,
    CONFIRM,
    EDITOR,
    SUBSCRIBER,
    WHEN,
    ask,
    confirmation,
    editors_bot,
    handled,
    received,
    settled,
)
from tests.helpers import WritePost, eventually


def editor_message(message_id: int) -> dict[str, Any]:
    """The envelope of a message the editor writes in their private chat with the bot."""
    return {
        "message_id": message_id,
        "from": {"id": EDITOR, "is_bot": False, "first_name": "Ed"},
        "chat": {"id": EDITOR, "type": "private", "first_name": "Ed"},
        "date": int(datetime.now(UTC).timestamp()),
    }


async def test_breaking_news_reaches_every_active_chat_once_and_joins_the_archive(
    double: TelegramDouble, start_bot: StartBot, content: Path
) -> None:
    bot = await editors_bot(start_bot)
    await ask(double, "/breaking world: Quake hits the coast\nAt least <b>ten</b> towns cut off.")
    preview = double.texts_to(EDITOR)
    assert any("Quake hits the coast" in t and "BREAKING" in t for t in preview)  # the card
    assert not any(received(double, chat, "Quake") for chat in AUDIENCE)  # nothing sent yet
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    for chat in AUDIENCE:
        await eventually(lambda c=chat: received(double, c, "Quake hits the coast") == 1)
    # The confirmation became the live report of the broadcast, which ends with the figures.
    await eventually(lambda: "went out: 4 of 4 chats have it" in double.texts_to(EDITOR)[-1])
    assert received(double, 45, "Quake") == 0
    [written] = (content / "breaking").glob("*.md")
    assert "Quake hits the coast" in written.read_text()
    await bot.refresh(queue=True)  # a later scan finds the file and must not send it again
    double.send_command(SUBSCRIBER, "/latest 1")
    await eventually(lambda: received(double, SUBSCRIBER, "Quake hits the coast") == 2)
    await settled(bot)
    assert all(received(double, c, "Quake hits the coast") == 1 for c in (43, 44, -1001))


async def test_breaking_news_as_a_photo_or_a_reply(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await editors_bot(start_bot)
    original = double.send_text(EDITOR, "Storm warning for the gulf\nFerries are cancelled.")
    double.add_update(
        {
            "message": {
                **editor_message(9000),
                "text": "/breaking",
                "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
                "reply_to_message": original["message"],
            }
        }
    )
    await eventually(lambda: any(CONFIRM in str(m) for m in double.messages_to(EDITOR)))
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await eventually(lambda: received(double, SUBSCRIBER, "Storm warning for the gulf") == 1)
    # The report's final text (the editor's plain message is also answered, as a search).
    await eventually(lambda: any("went out" in text for text in double.texts_to(EDITOR)))

    photo = {"file_id": "AgACPHOTO1", "file_unique_id": "u1", "width": 800, "height": 600}
    double.add_update(
        {
            "message": {
                **editor_message(9001),
                "photo": [photo],
                "caption": "/breaking Bridge closed\nEngineers inspect the damage.",
                "caption_entities": [{"type": "bot_command", "offset": 0, "length": 9}],
            }
        }
    )
    # The first confirmation lost its buttons when pressed: any open one is the new one.
    await eventually(lambda: any(CONFIRM in str(m) for m in double.messages_to(EDITOR)))
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await eventually(lambda: received(double, SUBSCRIBER, "Bridge closed") == 1)
    # The editor's photo goes out by its file_id (this double never saw that photo, so the
    # readers get the text card instead, as they would from Telegram).
    assert any(c.params.get("photo") == "AgACPHOTO1" for c in double.calls("sendPhoto"))


async def test_edits_are_not_commands(double: TelegramDouble, start_bot: StartBot) -> None:
    bot = await editors_bot(start_bot)
    photo = double.send_photo(EDITOR, "The bridge this morning", user_id=EDITOR)
    text = double.send_text(EDITOR, "Storm warning", user_id=EDITOR)
    words = double.send_text(SUBSCRIBER, "hello")
    double.edit_message(EDITOR, photo["message"]["message_id"], "/breaking Bridge closed")
    double.edit_message(EDITOR, text["message"]["message_id"], "/breaking Storm warning")
    double.edit_message(SUBSCRIBER, words["message"]["message_id"], "/stop")
    # Updates are handled in order: once these are answered, the edits have been handled.
    await handled(double, EDITOR)
    await handled(double, SUBSCRIBER)
    assert not any("adm:" in str(m) for m in double.messages_to(EDITOR))  # no draft begun
    assert not any("Bridge closed" in t or "Storm" in t for t in double.texts_to(EDITOR))
    chat = await bot.store.chat(SUBSCRIBER)
    assert chat is not None and chat.active  # the edited "/stop" did not unsubscribe


async def test_push_reaches_only_chats_that_had_not_had_the_post(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await editors_bot(start_bot)
    write_post("w.md", "Text.", title="World story", code="W1", category="World", date=WHEN)
    await eventually(lambda: received(double, -1001, "World story") == 1)  # world only
    await eventually(lambda: received(double, SUBSCRIBER, "World story") == 1)
    await eventually(lambda: received(double, 44, "World story") == 1)  # no language
    await ask(double, "/push W1 all")
    assert "not had W1: 1." in double.texts_to(EDITOR)[-1]  # only chat 43 (sport) lacks it
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await eventually(lambda: received(double, 43, "World story") == 1)
    await settled(bot)
    assert received(double, SUBSCRIBER, "World story") == 1
    assert received(double, -1001, "World story") == 1
    double.send_command(EDITOR, "/push W1")
    await eventually(lambda: "had it already" in double.texts_to(EDITOR)[-1])
    assert await bot.store.delivery_counts("W1") == {"sent": 4}


async def test_retract_deletes_what_readers_have(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await editors_bot(start_bot)
    path = write_post("w.md", "Text.", title="Wrong story", code="W1", date=WHEN)
    await eventually(lambda: received(double, SUBSCRIBER, "Wrong story") == 1)
    await ask(double, "/retract W1")
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Retract"], EDITOR)
    await eventually(lambda: received(double, SUBSCRIBER, "Wrong story") == 0)
    assert "retracted: true" in path.read_text()
    await eventually(lambda: "is retracted" in double.texts_to(EDITOR)[-1])


async def test_stats_and_reload(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, content: Path
) -> None:
    bot = await editors_bot(start_bot, scan_seconds=3600)
    double.forbidden_chats.add(44)
    write_post("w.md", "Text.", title="Story", code="W1", date=WHEN)
    (content / "broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    double.send_command(EDITOR, "/reload")
    report = await eventually(
        lambda: next((t for t in double.texts_to(EDITOR) if "Rescanned" in t), None)
    )
    assert "1 new" in report and "1 rejected" in report and "broken.md" in report
    await eventually(lambda: received(double, SUBSCRIBER, "Story") == 1)

    async def blocked_chat_inactive() -> bool:
        chat = await bot.store.chat(44)
        return chat is not None and not chat.active

    await eventually(blocked_chat_inactive)
    await eventually(lambda: bot.sender.pending_outcomes == 0)
    double.send_command(EDITOR, "/stats")
    stats = await eventually(
        lambda: next((t for t in double.texts_to(EDITOR) if "at a glance" in t), None)
    )
    assert "Chats (private): 2 active, 2 inactive" in stats  # 44 blocked the bot, 45 left
    assert "Chats (supergroup): 1 active, 0 inactive" in stats
    assert "Last 24 hours: 1 sent" in stats
    assert "Queue: 0 waiting" in stats


async def test_with_a_newsroom_folder_the_content_folder_is_only_read(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, tmp_path: Path
) -> None:
    newsroom = tmp_path / "newsroom"
    bot = await editors_bot(start_bot, newsroom_dir=newsroom)
    path = write_post("w.md", "Text.", title="Wrong story", code="W1", date=WHEN)
    before = {p: p.read_bytes() for p in path.parent.rglob("*")}
    await eventually(lambda: received(double, SUBSCRIBER, "Wrong story") == 1)

    await ask(double, "/breaking world: Bridge reopens\nTraffic flows again.")
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await eventually(lambda: received(double, SUBSCRIBER, "Bridge reopens") == 1)
    [written] = (newsroom / "breaking").glob("*.md")
    assert "Bridge reopens" in written.read_text()

    await ask(double, "/retract W1")
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Retract"], EDITOR)
    await eventually(lambda: received(double, SUBSCRIBER, "Wrong story") == 0)
    assert "W1" in (newsroom / "retractions.json").read_text()
    assert {p: p.read_bytes() for p in path.parent.rglob("*")} == before  # not one byte
    await bot.refresh(queue=True)  # later scans keep both as they are
    post = bot.library.get("W1")
    assert post is not None and post.retracted
    assert any(p.path.is_relative_to(newsroom) for p in bot.library.posts)
    await settled(bot)
    assert received(double, SUBSCRIBER, "Bridge reopens") == 1
