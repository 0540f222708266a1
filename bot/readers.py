"""Readers' commands decided without Telegram: what a chat receives, and what to tell its reader.

The handlers in `bot.handlers` turn an update into a chat (`ChatRef`), the reader's words and the
reader's language (`Texts`); a method of `ReaderDesk` reads and writes the store, and returns what
to say. The rules themselves (which words name which category, what "all" means) are the plain
functions of `bot.subscriptions`; this module applies them to one chat through the store and the
post library, so it is tested with a real database and no Telegram at all.

- A chat that has just begun to receive posts gets the newest few first (`ReaderDesk.welcome`).
  They go through the delivery queue, ahead of a broadcast in progress, which makes them durable
  and never duplicated; the caller sends them only after its answer, so the reader reads the
  answer first.
- Channels follow the same rules as chats (`/subscribe @channel` is `/start` for a channel); who
  may subscribe one, and whether the bot may post there, is decided by the handlers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.choices import CHOICE_COMMANDS, TOPIC_COMMANDS
from bot.filters import WordFilter
from bot.i18n import Texts
from bot.posts import Category, Post, PostLibrary
from bot.store import ALL, Chat, Joined, Store
from bot.subscriptions import (
    Button,
    Choice,
    backlog_candidates,
    categories_keyboard,
    category_names,
    choose_categories,
    choose_languages,
    deep_link_categories,
    latest_request,
    newest,
    pressed,
    starting,
    with_categories,
    without_categories,
)

log = logging.getLogger(__name__)

#: The reader commands, in menu order, with those of readers' choices (`bot.choices`).
READER_COMMANDS = (
    "start",
    "latest",
    "search",
    "categories",
    "subscribe",
    "unsubscribe",
    "language",
    *CHOICE_COMMANDS,
    "help",
    "stop",
)
#: The commands of the bot's administrators (the newsroom's editors).
EDITOR_COMMANDS = ("channels", "breaking", "push", "retract", "stats", "reload", "progress")
#: Names a category's own command can never take.
FIXED_COMMANDS = frozenset({*READER_COMMANDS, *EDITOR_COMMANDS, *TOPIC_COMMANDS, "share"})
#: Telegram keeps at most 100 commands per menu.
MAX_MENU = 100
#: A new subscriber's first posts go ahead of a broadcast in progress.
BACKLOG_PRIORITY = 10

_CHANNEL_ID = re.compile(r"-\d{5,}")


def channel_reference(word: str) -> str | int | None:
    """`@channel` or a channel's numeric id, as given to `/subscribe`; None for anything else."""
    if len(word) > 1 and word.startswith("@"):
        return word
    if _CHANNEL_ID.fullmatch(word):
        return int(word)
    return None


def menu(
    texts: Texts, categories: Mapping[str, Category], *, editor: bool = False
) -> list[tuple[str, str]]:
    """The command menu (command, description): reader commands, then one per category."""
    names = READER_COMMANDS + (EDITOR_COMMANDS if editor else ())
    entries = [(name, texts(f"menu.{name}")) for name in names]
    for key, category in categories.items():
        if len(entries) >= MAX_MENU:
            break
        if key not in FIXED_COMMANDS:
            entries.append((key, texts("menu.category", name=category.name)[:256]))
    return entries


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat as a command came from it: its id, its type ("private", "supergroup", ...) and a
    human name for the operators' records."""

    id: int
    type: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What a command did to a chat's subscriptions, and the answer to give."""

    text: str = ""
    chat_id: int | None = None
    before: Chat | None = None
    """The chat as it was, when something was written."""
    wanted: frozenset[str] | None = None
    """What the chat receives now; None when nothing was written."""

    @property
    def begins(self) -> bool:
        """Whether the chat has just begun to receive posts, and so gets the newest first."""
        if not self.wanted:
            return False
        before = self.before
        return before is None or not before.active or not before.categories


@dataclass(frozen=True, slots=True)
class Latest:
    """The answer to `/latest` or a category's command: cards to send, or a text instead."""

    posts: tuple[Post, ...] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Keyboard:
    """The categories keyboard with its prompt; no rows when there is nothing to choose."""

    text: str
    rows: list[list[Button]] | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """What a press on the categories keyboard did."""

    notice: str | None = None
    """A word for the presser (a stale keyboard, say); None answers silently."""
    change: Change | None = None
    """Set when the subscriptions changed; then `rows` is the keyboard redrawn."""
    rows: list[list[Button]] | None = None


class ReaderDesk:
    """Subscriptions, languages and `/latest` for one chat at a time, through store and library."""

    def __init__(
        self,
        store: Store,
        library: PostLibrary,
        *,
        backlog: int,
        wake: Callable[[], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`backlog`: how many posts a new subscriber gets first; `wake`: tell the sender that
        deliveries were queued."""
        self._store = store
        self._library = library
        self._backlog = backlog
        self._wake = wake
        self._clock = clock

    # --- subscribing ----------------------------------------------------------------------------

    async def start(self, chat: ChatRef, payload: Sequence[str], texts: Texts) -> Change:
        """Subscribe a chat: everything, its earlier choice, or the categories a deep link names."""
        choice = deep_link_categories(payload, self._library.categories)
        before = await self._store.chat(chat.id)
        kept = before.categories if before is not None else frozenset()
        wanted = starting(kept, choice.keys)
        joined = await self._store.set_subscriptions(chat.id, chat.type, chat.title, wanted)
        log.info("chat subscribed chat=%s type=%s how=%s", chat.id, chat.type, joined)
        if joined is Joined.ALREADY and not kept:
            joined = Joined.NEW  # a chat that had chosen "None" is subscribing anew
        lines = [self.unknown(texts, choice.unknown)] if choice.unknown else []
        lines.append(texts(f"start.{joined}", categories=self.describe(texts, wanted)))
        lines.append(texts("start.how"))
        return Change("\n\n".join(lines), chat.id, before, wanted)

    async def stop(self, chat_id: int, texts: Texts) -> str:
        """Unsubscribe a chat from everything and drop what was queued for it."""
        was_active = await self._store.unsubscribe_all(chat_id)
        log.info("chat unsubscribed chat=%s", chat_id)
        return texts("stop.done" if was_active else "stop.not_subscribed")

    async def change(
        self, chat: ChatRef, words: Sequence[str], texts: Texts, *, subscribe: bool
    ) -> Change:
        """`/subscribe world business` adds categories, `/unsubscribe sport` drops them.

        Only subscribing can start a subscription: dropping from a chat that receives nothing
        says so and writes nothing.
        """
        categories = self._library.categories
        choice = choose_categories(words, categories)
        if choice.unknown:
            return Change(self.unknown(texts, choice.unknown))
        before = await self._store.chat(chat.id)
        if subscribe:
            current = before.categories if before is not None else frozenset()
            wanted = with_categories(current, choice.keys)
        elif before is None or not before.active:
            return Change(texts("stop.not_subscribed"))
        else:
            wanted = without_categories(before.categories, choice.keys, categories)
        await self._store.set_subscriptions(chat.id, chat.type, chat.title, wanted)
        log.info("chat subscriptions chat=%s categories=%s", chat.id, sorted(wanted))
        text = texts("subscriptions.now", categories=self.describe(texts, wanted))
        return Change(text, chat.id, before, wanted)

    async def channel(
        self, channel: ChatRef, name: str, choice: Choice, texts: Texts, *, subscribe: bool
    ) -> Change:
        """`/subscribe @channel [category...]` and `/unsubscribe @channel [category...]`.

        `choice` holds known categories only. Subscribing follows `/start`'s rule; unsubscribing
        with no category ends the channel's subscription.
        """
        before = await self._store.chat(channel.id)
        if subscribe:
            wanted = starting(before.categories if before is not None else (), choice.keys)
        elif before is None or not before.active:
            return Change(texts("channel.not_subscribed", channel=name))
        elif not choice.keys:
            await self._store.unsubscribe_all(channel.id)
            log.info("channel unsubscribed chat=%s", channel.id)
            return Change(texts("channel.unsubscribed", channel=name))
        else:
            wanted = without_categories(before.categories, choice.keys, self._library.categories)
        await self._store.set_subscriptions(channel.id, channel.type, channel.title, wanted)
        if subscribe:
            log.info("channel subscribed chat=%s categories=%s", channel.id, sorted(wanted))
        text = texts("channel.subscribed", channel=name, categories=self.describe(texts, wanted))
        return Change(text, channel.id, before, wanted)

    async def channels(self, texts: Texts) -> str:
        """The channels the bot posts to, with what each receives."""
        found = await self._store.chats_of_type("channel")
        if not found:
            return texts("channel.none")
        lines = [
            texts(
                "channel.line",
                channel=f"{c.title or c.id} ({c.id})",
                categories=self.describe(texts, c.categories),
            )
            for c in found
        ]
        return texts("channel.list", channels="\n".join(lines))

    async def welcome(self, change: Change) -> int:
        """Queue the newest posts for a chat that has just begun to receive any; how many."""
        count = self._backlog
        if not change.begins or change.chat_id is None or change.wanted is None or count <= 0:
            return 0
        chat = await self._store.chat(change.chat_id)
        candidates = backlog_candidates(
            self._library.posts,
            self._clock(),
            subscribed=change.wanted,
            languages=chat.languages if chat is not None else None,
            count=count,
        )
        queued = await self._store.queue_backlog(
            change.chat_id, candidates, limit=count, priority=BACKLOG_PRIORITY
        )
        if queued:
            log.info("backlog queued chat=%s posts=%d", change.chat_id, queued)
            self._wake()
        return queued

    # --- the categories keyboard ----------------------------------------------------------------

    async def keyboard(self, chat_id: int, texts: Texts) -> Keyboard:
        """The categories keyboard as the chat's subscriptions tick it."""
        if not self._library.categories:
            return Keyboard(texts("categories.none_yet"))
        chat = await self._store.chat(chat_id)
        subscribed = chat.categories if chat is not None else frozenset()
        return Keyboard(texts("categories.prompt"), self._buttons(texts, subscribed))

    async def press(self, chat: ChatRef, data: str, texts: Texts) -> Press:
        """A press on the categories keyboard: the subscriptions it makes, and the redrawn keys."""
        categories = self._library.categories
        before = await self._store.chat(chat.id)
        current = before.categories if before is not None else frozenset()
        wanted = pressed(data, current, categories)
        if wanted is None:
            return Press(texts("button.stale"))
        if wanted == current and (before is None or before.active):
            return Press()
        await self._store.set_subscriptions(chat.id, chat.type, chat.title, wanted)
        log.info("chat subscriptions chat=%s categories=%s", chat.id, sorted(wanted))
        return Press(None, Change("", chat.id, before, wanted), self._buttons(texts, wanted))

    def _buttons(self, texts: Texts, subscribed: frozenset[str]) -> list[list[Button]]:
        return categories_keyboard(
            subscribed,
            self._library.categories,
            all_label=texts("categories.all_button"),
            none_label=texts("categories.none_button"),
        )

    # --- languages and posts --------------------------------------------------------------------

    async def language(self, chat_id: int, words: Sequence[str], texts: Texts) -> str:
        """Say which article languages the chat receives, or choose them: `/language en th`."""
        choice = choose_languages(words)
        before = await self._store.chat(chat_id)
        if not choice.invalid and choice.languages == frozenset():
            current = before.languages if before is not None else None
            available = ", ".join(self._library.languages) or "–"
            return texts(
                "language.current", languages=_languages(texts, current), available=available
            )
        if choice.invalid:
            return texts("language.invalid", codes=", ".join(choice.invalid))
        if before is None:
            return texts("language.not_subscribed")
        await self._store.set_languages(chat_id, choice.languages)
        log.info("chat languages chat=%s languages=%s", chat_id, choice.languages)
        return texts("language.set", languages=_languages(texts, choice.languages))

    async def latest(
        self, chat_id: int, words: Sequence[str], texts: Texts, *, category: str | None = None
    ) -> Latest:
        """The newest posts in the chat's languages: `/latest world 3`, or `/world 3`."""
        categories = self._library.categories
        request = latest_request(words, categories, category=category)
        if request.unknown:
            return Latest(text=self.unknown(texts, request.unknown))
        chat, chosen = await self._store.chat(chat_id), await self._store.choices(chat_id)
        languages = chat.languages if chat is not None else None
        admits = WordFilter(chosen.muted, chosen.only).admits  # the chat's word filters
        posts = newest(
            filter(
                admits, self._library.candidates(category=request.category, languages=languages)
            ),
            self._clock(),
            count=request.count,
            category=request.category,
            languages=languages,
        )
        if posts:
            return Latest(tuple(posts))
        named = categories.get(request.category or "")
        if named is None:
            return Latest(text=texts("latest.none"))
        return Latest(text=texts("latest.none_in", category=named.name))

    # --- wording --------------------------------------------------------------------------------

    def help(self, texts: Texts, *, private: bool, editor: bool) -> str:
        """What the bot does, its commands, and the categories there are."""
        parts = [texts("help.text")]
        keys = [f"/{key}" for key in self._library.categories if key not in FIXED_COMMANDS]
        if keys:
            parts.append(texts("help.categories", commands=" ".join(keys)))
        if not private:
            parts.append(texts("help.groups"))
        elif editor:
            parts.append(texts("help.admin"))
        return "\n\n".join(parts)

    def describe(self, texts: Texts, subscribed: frozenset[str]) -> str:
        """What a chat receives, in words: "all categories", a list of names, or nothing."""
        if ALL in subscribed:
            return texts("subscriptions.all")
        names = category_names(subscribed, self._library.categories)
        if not names:
            return texts("subscriptions.nothing")
        return texts("subscriptions.list_separator").join(names)

    def unknown(self, texts: Texts, names: Sequence[str]) -> str:
        """Words that name no category, and the category commands there are."""
        known = " ".join(f"/{key}" for key in self._library.categories) or "–"
        return texts("categories.unknown", names=", ".join(names), known=known)

    def is_category(self, key: str) -> bool:
        """Whether a category has this key now, which makes `/key` its command."""
        return key in self._library.categories

    def choose(self, words: Sequence[str]) -> Choice:
        """The categories named by `words` (and the words that name none)."""
        return choose_categories(words, self._library.categories)


def _languages(texts: Texts, languages: frozenset[str] | None) -> str:
    if languages is None:
        return texts("language.all")
    return ", ".join(sorted(languages)) or "–"
