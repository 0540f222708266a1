"""Talking to a running bot as its readers and editors do, and reading what came back.

Every wait is `tests.helpers.eventually`: bounded, and on a positive signal. To show that the bot
did NOT answer something, wait for a later answer first: the Application handles updates one at
a time and in order (python-telegram-bot's default `concurrent_updates` of 1), so once a later
update's answer is there, every earlier update has been handled (`handled`). Two kinds of work
outlive their update and need a signal of their own: deliveries, which the sender sends from the
queue (`settled`), and the handlers registered with `block=False` (`/latest`, category commands
and the fallback), which an orderly stop waits for (`finish`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import Newsbot
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import WritePost, eventually

BOT = "newsbot_test_bot"
Post = tuple[str, str, str, float, str]

#: (id, headline, category, minutes ago, language): newest first is w3 b2 t1 a1 w2 b1 w1.
NEWSROOM: tuple[Post, ...] = (
    ("w1", "World one", "WORLD", 90, "en"),
    ("b1", "Business one", "BUSINESS", 80, "en"),
    ("w2", "World two", "WORLD", 70, "en"),
    ("a1", "Asia one", "Asia Pacific", 60, "en"),
    ("t1", "Thai one", "THAILAND", 50, "th"),
    ("b2", "Business two", "BUSINESS", 40, "en"),
    ("w3", "World three", "WORLD", 30, "en"),
)
HEADLINES = {post[1] for post in NEWSROOM}
EXTRA_HEADLINES = {f"Story {n}" for n in range(20)} | {"Science one", "World four", "Thai two"}


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def publish(bot: Newsbot, write_post: WritePost, posts: Sequence[Post]) -> None:
    """Write posts and wait until the bot has recorded (and pushed) them."""
    for post_id, title, category, minutes, language in posts:
        write_post(
            f"{post_id}.md", title=title, category=category, date=ago(minutes), language=language
        )
    bot.rescan()

    async def recorded() -> bool:
        return {p[0] for p in posts} <= (await bot.store.seen_posts()).keys()

    await eventually(recorded)


async def newsroom(
    start_bot: StartBot,
    write_post: WritePost,
    posts: Sequence[Post] = NEWSROOM,
    **overrides: object,
) -> Newsbot:
    """A running bot with the newsroom's posts published."""
    bot = await start_bot(**overrides)
    await publish(bot, write_post, posts)
    return bot


def cards(double: TelegramDouble, chat: int) -> list[str]:
    """Headlines of the post cards a chat received, in order."""
    return [t.split("\n")[1] for t in double.texts_to(chat) if _is_card(t)]


def replies(double: TelegramDouble, chat: int) -> list[str]:
    """Texts the bot sent to a chat other than post cards."""
    return [t for t in double.texts_to(chat) if not _is_card(t)]


def _is_card(text: str) -> bool:
    lines = text.split("\n")
    return len(lines) > 1 and lines[1] in HEADLINES | EXTRA_HEADLINES


async def reply(double: TelegramDouble, chat: int, words: str, timeout: float = 5.0) -> str:
    """Wait for a reply containing `words` and return it."""
    found: list[str] = []

    def seen() -> bool:
        found[:] = [t for t in double.texts_to(chat) if words in t]
        return bool(found)

    await eventually(seen, timeout, description=f"a reply with {words!r} in chat {chat}")
    return found[-1]


async def handled(double: TelegramDouble, chat: int, command: str = "/help", **kw: Any) -> str:
    """Send a command and wait for its answer, which it returns.

    Once it is there, every update sent before has been handled (see the module's docstring),
    from this chat or any other.
    """
    count = len(replies(double, chat))
    double.send_command(chat, command, **kw)
    await eventually(
        lambda: len(replies(double, chat)) > count,
        description=f"an answer to {command} in chat {chat}",
    )
    return replies(double, chat)[-1]


async def settled(bot: Newsbot) -> None:
    """Wait until every delivery queued so far has been sent (or given up) and recorded."""

    async def idle() -> bool:
        return await bot.store.queue_depth() == 0 and bot.sender.pending_outcomes == 0

    await eventually(idle, description="an empty delivery queue")


#: A private chat of its own for the last command `finish` sends, which no test looks at.
LAST_WORD = 4_040_404


async def finish(bot: Newsbot, double: TelegramDouble) -> None:
    """Have every update sent so far handled to the end, then stop the bot.

    A later command's answer shows that every update before it was taken and handled, except
    for what handlers registered with `block=False` still do beside it: the Application's
    orderly stop waits for those. Only the double can be asked after.
    """
    await handled(double, LAST_WORD)
    await bot.stop()


def keyboard(double: TelegramDouble, chat: int) -> tuple[int, list[list[dict[str, Any]]]]:
    """The newest categories keyboard in a chat: its message id and its rows of buttons."""
    for message in reversed(double.messages_to(chat)):
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if any(str(b.get("callback_data", "")).startswith("cat:") for row in rows for b in row):
            return message["message_id"], rows
    raise AssertionError(f"no categories keyboard in chat {chat}")


def ticked(rows: list[list[dict[str, Any]]]) -> set[str]:
    """callback_data of the ticked buttons."""
    return {b["callback_data"] for row in rows for b in row if b["text"].startswith("✅")}


async def categories_of(bot: Newsbot, chat: int) -> frozenset[str] | None:
    found = await bot.store.chat(chat)
    return None if found is None or not found.active else found.categories


# --- groups and channels ------------------------------------------------------------------------

GROUP = -1001234
ADMIN, MEMBER = 501, 502
CHANNEL = -1009999
BOT_ADMIN, OTHER_ADMIN, READER = 71, 73, 72


def make_channel(double: TelegramDouble, chat_id: int, username: str, *, bot_status: str) -> None:
    """A channel the double knows, with the bot in it in the given role."""
    double.chat_types[chat_id] = "channel"
    double.chat_titles[chat_id] = f"{username.title()} channel"
    double.chat_usernames[username] = chat_id
    double.set_member_status(chat_id, double.bot_user["id"], bot_status)


# --- editors ------------------------------------------------------------------------------------

EDITOR = 777
SUBSCRIBER = 42
STRANGER = 99
WHEN = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
#: The callback data of a confirmation's "Send" (or "Retract") button begins so.
CONFIRM = "adm:go:"
#: The chats a breaking item reaches in `editors_bot`.
AUDIENCE = (SUBSCRIBER, 43, 44, -1001)


async def editors_bot(start_bot: StartBot, **overrides: object) -> Newsbot:
    """A bot with one editor, and readers subscribed in different ways."""
    bot = await start_bot(admin_ids=frozenset({EDITOR}), subscribe_backlog=0, **overrides)
    await bot.store.subscribe(SUBSCRIBER, "private", None)
    await bot.store.subscribe(43, "private", None, ["sport"])  # breaking ignores categories
    await bot.store.subscribe(44, "private", None)
    await bot.store.set_languages(44, ["th"])  # ... and languages
    await bot.store.subscribe(-1001, "supergroup", "Team", ["world"])
    await bot.store.subscribe(45, "private", None)
    await bot.store.unsubscribe_all(45)  # but not a chat that left
    return bot


def confirmation(double: TelegramDouble, chat: int) -> tuple[int, dict[str, str]]:
    """The newest message with Send/Cancel buttons: its id and {button text: data}.

    A confirmation loses its buttons once pressed, so this finds the one still open (a live
    report's "Stop" is no confirmation).
    """
    for message in reversed(double.messages_to(chat)):
        rows: list[list[dict[str, Any]]] = message.get("reply_markup", {}).get(
            "inline_keyboard", []
        )
        buttons = {b["text"]: b.get("callback_data", "") for row in rows for b in row}
        if any(data.startswith(CONFIRM) for data in buttons.values()):
            return message["message_id"], buttons
    raise AssertionError(f"no confirmation in chat {chat}: {double.texts_to(chat)}")


async def ask(double: TelegramDouble, text: str, chat: int = EDITOR, **kw: Any) -> None:
    """Send an editor's command and wait for the confirmation it asks for."""
    double.send_command(chat, text, **kw)
    await eventually(lambda: any(CONFIRM in str(m) for m in double.messages_to(chat)))


def received(double: TelegramDouble, chat: int, words: str) -> int:
    """How many of the bot's messages in a chat contain `words`."""
    return sum(words in text for text in double.texts_to(chat))
