"""End to end: editors' breaking news, pushes, retractions and oversight; everyone else refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import Newsbot
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import WritePost

EDITOR = 777
READER = 42
STRANGER = 99
WHEN = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


async def editors_bot(start_bot: StartBot, **overrides: object) -> Newsbot:
    """A bot with one editor, and readers subscribed in different ways."""
    bot = await start_bot(admin_ids=frozenset({EDITOR}), subscribe_backlog=0, **overrides)
    await bot.store.subscribe(READER, "private", None)
    await bot.store.subscribe(43, "private", None, ["sport"])  # breaking ignores categories
    await bot.store.subscribe(44, "private", None)
    await bot.store.set_languages(44, ["th"])  # ... and languages
    await bot.store.subscribe(-1001, "supergroup", "Team", ["world"])
    await bot.store.subscribe(45, "private", None)
    await bot.store.unsubscribe_all(45)  # but not a chat that left
    return bot


AUDIENCE = (READER, 43, 44, -1001)


def confirmation(double: TelegramDouble, chat: int) -> tuple[int, dict[str, str]]:
    """The newest message with Send/Cancel buttons: its id and {button text: data}.

    A confirmation loses its buttons once pressed, so this finds the one still open.
    """
    for message in reversed(double.messages_to(chat)):
        rows: list[list[dict[str, Any]]] = message.get("reply_markup", {}).get(
            "inline_keyboard", []
        )
        buttons = {b["text"]: b.get("callback_data", "") for row in rows for b in row}
        if any(data.startswith("adm:") for data in buttons.values()):
            return message["message_id"], buttons
    raise AssertionError(f"no confirmation in chat {chat}: {double.texts_to(chat)}")


async def ask(double: TelegramDouble, text: str, chat: int = EDITOR, **kw: Any) -> None:
    double.send_command(chat, text, **kw)
    await double.wait_for(lambda: any("adm:" in str(m) for m in double.messages_to(chat)))


def editor_message(message_id: int) -> dict[str, Any]:
    """The envelope of a message the editor writes in their private chat with the bot."""
    return {
        "message_id": message_id,
        "from": {"id": EDITOR, "is_bot": False, "first_name": "Ed"},
        "chat": {"id": EDITOR, "type": "private", "first_name": "Ed"},
        "date": int(datetime.now(UTC).timestamp()),
    }


def received(double: TelegramDouble, chat: int, words: str) -> int:
    return sum(words in text for text in double.texts_to(chat))


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
        await double.wait_for(lambda c=chat: received(double, c, "Quake hits the coast") == 1)
    await double.wait_for(lambda: "going out to 4 chats" in double.texts_to(EDITOR)[-1])
    assert received(double, 45, "Quake") == 0
    [written] = (content / "breaking").glob("*.md")
    assert "Quake hits the coast" in written.read_text()
    bot.rescan()  # a later scan finds the file and must not send it again
    double.send_command(READER, "/latest 1")
    await double.wait_for(lambda: received(double, READER, "Quake hits the coast") == 2)
    await asyncio.sleep(0.3)
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
    await double.wait_for(lambda: any("adm:" in str(m) for m in double.messages_to(EDITOR)))
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await double.wait_for(lambda: received(double, READER, "Storm warning for the gulf") == 1)
    await double.wait_for(lambda: "going out" in double.texts_to(EDITOR)[-1])  # buttons gone

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
    await double.wait_for(lambda: any("adm:" in str(m) for m in double.messages_to(EDITOR)))
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await double.wait_for(lambda: received(double, READER, "Bridge closed") == 1)
    # The editor's photo goes out by its file_id (this double never saw that photo, so the
    # readers get the text card instead, as they would from Telegram).
    assert any(c.params.get("photo") == "AgACPHOTO1" for c in double.calls("sendPhoto"))


async def test_nobody_else_can_publish_or_confirm(
    double: TelegramDouble, start_bot: StartBot, content: Path
) -> None:
    await editors_bot(start_bot)
    double.send_command(STRANGER, "/breaking Fake news")
    await double.wait_for(lambda: "editors" in " ".join(double.texts_to(STRANGER)))
    for command in ("/push A", "/retract A", "/stats", "/reload"):
        double.send_command(STRANGER, command)
    await double.wait_for(lambda: len(double.texts_to(STRANGER)) == 5)
    assert all("editors" in text for text in double.texts_to(STRANGER))

    await ask(double, "/breaking Real news")
    message_id, buttons = confirmation(double, EDITOR)
    # A forwarded keyboard: someone else presses the editor's Send button.
    double.press_button(EDITOR, message_id, buttons["Send"], STRANGER)
    await double.wait_for(lambda: double.callback_answers)
    await asyncio.sleep(0.3)
    assert not (content / "breaking").exists()
    assert received(double, READER, "news") == 0
    double.press_button(EDITOR, message_id, buttons["Cancel"], EDITOR)
    await double.wait_for(lambda: "Cancelled" in double.texts_to(EDITOR)[-1])
    await asyncio.sleep(0.3)
    assert received(double, READER, "news") == 0


async def test_editors_commands_stay_out_of_groups(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await editors_bot(start_bot)
    double.send_command(-1001, "/stats", user_id=EDITOR)
    await double.wait_for(lambda: any("private chat" in t for t in double.texts_to(-1001)))


async def test_push_reaches_only_chats_that_had_not_had_the_post(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await editors_bot(start_bot)
    write_post("w.md", "Text.", title="World story", code="W1", category="World", date=WHEN)
    await double.wait_for(lambda: received(double, -1001, "World story") == 1)  # world only
    await double.wait_for(lambda: received(double, READER, "World story") == 1)
    await double.wait_for(lambda: received(double, 44, "World story") == 1)  # no language
    await ask(double, "/push W1 all")
    assert "not had W1: 1." in double.texts_to(EDITOR)[-1]  # only chat 43 (sport) lacks it
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Send"], EDITOR)
    await double.wait_for(lambda: received(double, 43, "World story") == 1)
    await asyncio.sleep(0.3)
    assert received(double, READER, "World story") == 1
    assert received(double, -1001, "World story") == 1
    double.send_command(EDITOR, "/push W1")
    await double.wait_for(lambda: "had it already" in double.texts_to(EDITOR)[-1])
    assert await bot.store.delivery_counts("W1") == {"sent": 4}


async def test_retract_deletes_what_readers_have(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await editors_bot(start_bot)
    path = write_post("w.md", "Text.", title="Wrong story", code="W1", date=WHEN)
    await double.wait_for(lambda: received(double, READER, "Wrong story") == 1)
    await ask(double, "/retract W1")
    message_id, buttons = confirmation(double, EDITOR)
    double.press_button(EDITOR, message_id, buttons["Retract"], EDITOR)
    await double.wait_for(lambda: received(double, READER, "Wrong story") == 0)
    assert "retracted: true" in path.read_text()
    await double.wait_for(lambda: "is retracted" in double.texts_to(EDITOR)[-1])


async def test_stats_and_reload(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, content: Path
) -> None:
    bot = await editors_bot(start_bot, scan_seconds=3600)
    double.forbidden_chats.add(44)
    write_post("w.md", "Text.", title="Story", code="W1", date=WHEN)
    (content / "broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    double.send_command(EDITOR, "/reload")
    report = await double.wait_for(
        lambda: next((t for t in double.texts_to(EDITOR) if "Rescanned" in t), None)
    )
    assert "1 new" in report and "1 rejected" in report and "broken.md" in report
    await double.wait_for(lambda: received(double, READER, "Story") == 1)
    for _ in range(250):  # bounded: until the blocked chat is marked inactive
        chat = await bot.store.chat(44)
        if chat is not None and not chat.active:
            break
        await asyncio.sleep(0.02)
    await double.wait_for(lambda: bot.sender.pending_outcomes == 0)
    double.send_command(EDITOR, "/stats")
    stats = await double.wait_for(
        lambda: next((t for t in double.texts_to(EDITOR) if "at a glance" in t), None)
    )
    assert "Chats (private): 2 active, 2 inactive" in stats  # 44 blocked the bot, 45 left
    assert "Chats (supergroup): 1 active, 0 inactive" in stats
    assert "Last 24 hours: 1 sent" in stats
    assert "Queue: 0 waiting" in stats
