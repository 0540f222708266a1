"""Random command arguments and text: the command parser and the readers' core answer every one,
in a bounded time, without raising.

A reader's words are the one input anyone in the world can send the bot. Each property has a
fixed number of examples and a deadline per example, far above what reading a command takes now
and far below what a long command took when category words were read in cubic time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Chat, Message, MessageEntity

from bot.handlers.updates import addressed_command
from bot.i18n import catalogue
from bot.posts import PostLibrary
from bot.readers import ChatRef, ReaderDesk
from bot.store import Store
from bot.subscriptions import MOST_WORDS
from tests.helpers import WritePost

FUZZ = settings(
    max_examples=60,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
EN = catalogue("en")
BOT = "newsbot_test_bot"

_WORD = st.one_of(
    st.sampled_from(
        ["world", "Asia", "Pacific", "all", "none", "*", "3", "-1", "999999", "en", "th", "en-US"]
    ),
    st.text(
        alphabet=st.one_of(
            st.sampled_from("abc XYZ 0123 -_,#/@*'\"\t\n"),
            st.characters(codec="utf-8", exclude_categories=("Cs",)),
        ),
        max_size=30,
    ),
)
_WORDS = st.lists(_WORD, max_size=300)
#: A whole message: up to Telegram's 4,096 characters.
_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from("ab /@_-\n"), st.characters(exclude_categories=("Cs",))),
    max_size=4096,
)


def message(text: str, *, command: int = 0) -> Message:
    """A private message as Telegram would hand it over; `command` is its leading command's
    length (0 for none)."""
    entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, command)] if command else []
    return Message(
        1, datetime.now(UTC), Chat(1, Chat.PRIVATE), text=text, entities=entities or None
    )


@FUZZ
@given(name=st.sampled_from(["/latest", f"/latest@{BOT}", "/x@other_bot", "/w"]), rest=_TEXT)
def test_the_command_parser_reads_any_message_in_bounded_words(name: str, rest: str) -> None:
    command = addressed_command(message(f"{name} {rest}", command=len(name)), BOT)
    if name.endswith("other_bot"):
        assert command is None
    else:
        assert command is not None and len(command.words) <= MOST_WORDS
    assert addressed_command(message(rest), BOT) is None or rest.startswith("/")


@pytest.fixture
def library(content: Path, write_post: WritePost) -> PostLibrary:
    now = datetime.now(UTC)
    write_post("w1.md", title="World one", category="WORLD", date=now.isoformat())
    write_post("a1.md", title="Asia one", category="Asia Pacific", date=now.isoformat())
    found = PostLibrary(content)
    found.scan()
    return found


@FUZZ
@given(words=_WORDS)
async def test_the_readers_core_answers_any_words(
    store: Store, library: PostLibrary, words: list[str]
) -> None:
    desk = ReaderDesk(store, library, backlog=0, wake=lambda: None)
    chat = ChatRef(7, "private", "Fuzz")
    assert (await desk.start(chat, words, EN)).text
    assert (await desk.change(chat, words, EN, subscribe=True)).text
    assert (await desk.change(chat, words, EN, subscribe=False)).text
    assert await desk.language(chat.id, words, EN)
    latest = await desk.latest(chat.id, words, EN)
    assert latest.text or latest.posts
    world = await desk.latest(chat.id, words, EN, category="world")
    assert world.text or all(any(c.key == "world" for c in p.categories) for p in world.posts)
    await desk.press(chat, "".join(words)[:64], EN)
