"""Readers' choices decided without Telegram: digests, time zone, quiet hours, word filters,
forum topics, and the `/settings` keyboard that sets them with buttons.

Like `bot.readers`, each method of `ChoiceDesk` takes a chat, the reader's words and the
reader's texts, reads and writes the store, and returns what to say; the handlers
(`bot.handlers.choices`, `bot.handlers.topics`) only turn updates into these calls and make
the Telegram calls this cannot (creating a forum topic). Who may change a chat's choices is
the handlers' one check (`bot.handlers.access`): a private chat's reader, a group's admins.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from bot.digests import INSTANT, TWICE_DAILY, next_slot, parse_mode, slot_times
from bot.filters import MOST_WORDS, add_words
from bot.i18n import Texts
from bot.posts import PostLibrary
from bot.quiet import window, zone_named, zone_of
from bot.store import ALL, ChatChoices, Store
from bot.subscriptions import Button, category_names, choose_categories
from bot.topics import GENERAL

#: The commands of readers' choices, in menu order.
CHOICE_COMMANDS = ("settings", "digest", "quiet", "timezone", "mute", "only", "filters")
#: The forum commands (group admins), never a category's command either.
TOPIC_COMMANDS = ("here", "topics")
#: Callback data of the settings keyboard.
SETTINGS_PREFIX = "set:"
#: Time zones offered as buttons; any other is a `/timezone Area/City` away.
ZONE_BUTTONS = ("UTC", "Asia/Bangkok")
#: Quiet hours offered as a button.
QUIET_BUTTON = ("22:00", "07:00")


@dataclass(frozen=True, slots=True)
class Screen:
    """A settings message: its text and buttons (None: the press changed nothing)."""

    text: str
    rows: list[list[Button]]


class ChoiceDesk:
    """How each chat receives its posts, through the store."""

    def __init__(
        self,
        store: Store,
        library: PostLibrary,
        *,
        zone: tzinfo,
        clock: Callable[[], float] = time.time,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        """`zone` is the newsroom's (NEWSBOT_TIMEZONE), every chat's default; `changed` is
        called after a change that may make deliveries go (a digest chat back to instant)."""
        self._store = store
        self._library = library
        self._zone = zone
        self._clock = clock
        self._changed = changed

    async def _set(self, chat_id: int, texts: Texts, **changes: object) -> bool:
        changes["texts_language"] = texts.language
        done = await self._store.set_choices(chat_id, changes)
        if done:
            self._changed()
        return done

    # --- digests and time zone ------------------------------------------------------------

    async def digest(self, chat_id: int, words: Sequence[str], texts: Texts) -> str:
        """`/digest hourly`, `/digest daily 07:30`, `/digest twice daily`, `/digest instant`;
        without words, how the chat receives posts now."""
        if not words:
            return await self.summary(chat_id, texts)
        mode = parse_mode(words)
        if mode is None:
            return texts("digest.invalid")
        if not await self._set(chat_id, texts, mode=mode, last_digest=self._clock()):
            return texts("choices.not_subscribed")
        if mode == INSTANT:
            return texts("digest.instant")
        choices = await self._store.choices(chat_id)
        zone = zone_of(choices, self._zone)
        now = datetime.fromtimestamp(self._clock(), UTC)
        upcoming = next_slot(mode, zone, now)
        shown = upcoming.strftime("%H:%M") if upcoming is not None else "–"
        return texts("digest.set", mode=describe_mode(texts, mode), next=f"{shown} ({zone})")

    async def timezone(self, chat_id: int, words: Sequence[str], texts: Texts) -> str:
        """`/timezone Asia/Bangkok`; without a name, the chat's time zone."""
        if not words:
            choices = await self._store.choices(chat_id)
            return texts("timezone.current", zone=str(zone_of(choices, self._zone)))
        name = words[0]
        zone = zone_named(name)
        if zone is None:
            return texts("timezone.invalid", zone=name[:64])
        if not await self._set(chat_id, texts, time_zone=str(zone)):
            return texts("choices.not_subscribed")
        return texts("timezone.set", zone=str(zone))

    # --- quiet hours --------------------------------------------------------------------------

    async def quiet(self, chat_id: int, words: Sequence[str], texts: Texts) -> str:
        """`/quiet 22:00-07:00`, `/quiet off`, `/quiet breaking on|off`."""
        if not words:
            return await self.summary(chat_id, texts)
        first = words[0].casefold()
        if first == "breaking" and len(words) == 2 and words[1].casefold() in ("on", "off"):
            allowed = words[1].casefold() == "on"
            if not await self._set(chat_id, texts, breaking_in_quiet=allowed):
                return texts("choices.not_subscribed")
            return texts("quiet.breaking_on" if allowed else "quiet.breaking_off")
        if first in ("off", "none"):
            if not await self._set(chat_id, texts, quiet_from=None, quiet_to=None):
                return texts("choices.not_subscribed")
            return texts("quiet.off")
        hours = window(" ".join(words))
        if hours is None:
            return texts("quiet.invalid")
        if not await self._set(chat_id, texts, quiet_from=hours[0], quiet_to=hours[1]):
            return texts("choices.not_subscribed")
        zone = zone_of(await self._store.choices(chat_id), self._zone)
        return texts("quiet.set", start=hours[0], end=hours[1], zone=str(zone))

    # --- word filters -------------------------------------------------------------------------

    async def add_filter(
        self, chat_id: int, words: Sequence[str], texts: Texts, *, only: bool
    ) -> str:
        """`/mute word ...` or `/only word ...`."""
        if not words:
            return texts("filters.how")
        choices = await self._store.choices(chat_id)
        mine, other = (choices.only, choices.muted) if only else (choices.muted, choices.only)
        added = add_words(mine, other, words)
        column = "only_words" if only else "muted"
        if not await self._set(chat_id, texts, **{column: list(added.words)}):
            return texts("choices.not_subscribed")
        lines = [texts("filters.only" if only else "filters.muted", words=_list(added.words))]
        if added.refused:
            lines.append(texts("filters.refused", words=", ".join(added.refused)))
        if added.full:
            lines.append(texts("filters.full", most=MOST_WORDS))
        return "\n".join(lines)

    async def filters(self, chat_id: int, texts: Texts) -> str:
        """What the chat's word filters are."""
        choices = await self._store.choices(chat_id)
        none = texts("choices.none")
        return texts(
            "filters.show", muted=_list(choices.muted) or none, only=_list(choices.only) or none
        )

    async def clear_filters(self, chat_id: int, texts: Texts) -> str:
        """Drop every word filter of the chat."""
        if not await self._set(chat_id, texts, muted=None, only_words=None):
            return texts("choices.not_subscribed")
        return texts("filters.cleared")

    # --- the settings keyboard ----------------------------------------------------------------

    async def summary(self, chat_id: int, texts: Texts) -> str:
        """Every choice of the chat, in words."""
        choices = await self._store.choices(chat_id)
        none = texts("choices.none")
        quiet = f"{choices.quiet[0]}–{choices.quiet[1]}" if choices.quiet else texts("choices.off")
        return texts(
            "choices.summary",
            mode=describe_mode(texts, choices.mode),
            zone=str(zone_of(choices, self._zone)),
            quiet=quiet,
            breaking=texts("choices.on" if choices.breaking_in_quiet else "choices.silent"),
            muted=_list(choices.muted) or none,
            only=_list(choices.only) or none,
        )

    async def settings(self, chat_id: int, texts: Texts) -> Screen:
        """The settings message: every choice, and a button for each."""
        choices = await self._store.choices(chat_id)
        text = await self.summary(chat_id, texts) + "\n\n" + texts("choices.settings_prompt")
        return Screen(text, settings_rows(choices, texts))

    async def press(self, chat_id: int, data: str, texts: Texts) -> Screen | None:
        """A tap on the settings keyboard: the change it makes, and the message redrawn.
        None for data no button of this keyboard carries (a stale keyboard)."""
        what, _, value = data.removeprefix(SETTINGS_PREFIX).partition(":")
        choices = await self._store.choices(chat_id)
        changes: dict[str, object]
        if what == "m" and (mode := parse_mode(value.split())) is not None:
            changes = {"mode": mode, "last_digest": self._clock()}
        elif what == "q" and value == "off":
            changes = {"quiet_from": None, "quiet_to": None}
        elif what == "q" and (hours := window(value)) is not None:
            changes = {"quiet_from": hours[0], "quiet_to": hours[1]}
        elif what == "b":
            changes = {"breaking_in_quiet": not choices.breaking_in_quiet}
        elif what == "f":
            changes = {"muted": None, "only_words": None}
        elif what == "z" and (zone := zone_named(value)) is not None:
            changes = {"time_zone": str(zone)}
        else:
            return None
        if not await self._set(chat_id, texts, **changes):
            return Screen(texts("choices.not_subscribed"), [])
        return await self.settings(chat_id, texts)

    # --- forum topics -------------------------------------------------------------------------

    async def here(self, chat_id: int, thread: int, words: Sequence[str], texts: Texts) -> str:
        """`/here world business` inside a topic: those categories go to that topic."""
        choice = choose_categories(words, self._library.categories)
        if choice.unknown or not choice.keys:
            known = " ".join(f"/{key}" for key in self._library.categories) or "–"
            names = ", ".join(choice.unknown) or "–"
            return texts("categories.unknown", names=names, known=known)
        if await self._store.chat(chat_id) is None:
            return texts("choices.not_subscribed")
        await self._store.route(chat_id, sorted(choice.keys), thread)
        self._changed()
        return texts("topics.here", categories=self._names(texts, choice.keys))

    async def to_create(self, chat_id: int) -> dict[str, str]:
        """The categories `/topics create` makes a topic for: the chat's subscribed ones
        (every category for a chat subscribed to all), key -> name, without a topic yet."""
        chat = await self._store.chat(chat_id)
        if chat is None:
            return {}
        routes = (await self._store.choices(chat_id)).routes
        categories = self._library.categories
        keys = categories.keys() if ALL in chat.categories else chat.categories
        return {
            key: categories[key].name
            for key in sorted(keys)
            if key in categories and routes.get(key, GENERAL) == GENERAL
        }

    async def created(self, chat_id: int, made: Mapping[str, int], texts: Texts) -> str:
        """Topics were created (category key -> topic): route each category to its own."""
        for key, thread in made.items():
            await self._store.route(chat_id, [key], thread)
        self._changed()
        choices = await self._store.choices(chat_id)
        general = texts("topics.general" if choices.general else "topics.nowhere")
        return texts(
            "topics.created", categories=self._names(texts, frozenset(made)), general=general
        )

    async def topics(self, chat_id: int, words: Sequence[str], texts: Texts) -> str:
        """`/topics general on|off`; without words, the forum's routes."""
        folded = [w.casefold() for w in words]
        if folded[:1] == ["general"] and folded[1:] in (["on"], ["off"]):
            on = folded[1] == "on"
            if not await self._set(chat_id, texts, general=on):
                return texts("choices.not_subscribed")
            return texts("topics.general_on" if on else "topics.general_off")
        if words:
            return texts("topics.invalid")
        choices = await self._store.choices(chat_id)
        lines = [
            texts(
                "topics.route_line",
                category=self._names(texts, frozenset({key})),
                thread=thread or texts("topics.general"),
            )
            for key, thread in sorted(choices.routes.items())
        ]
        general = texts("topics.general" if choices.general else "topics.nowhere")
        routes = "\n".join(lines) or texts("topics.no_routes")
        return texts("topics.show", routes=routes, general=general)

    def _names(self, texts: Texts, keys: frozenset[str]) -> str:
        if ALL in keys:
            return texts("subscriptions.all")
        names = category_names(keys, self._library.categories)
        return texts("subscriptions.list_separator").join(names)


def describe_mode(texts: Texts, mode: str) -> str:
    """A digest mode in the reader's words."""
    times = slot_times(mode)
    if mode == INSTANT or (times is None and mode != "hourly"):
        return texts("choices.instant")
    if times is None:
        return texts("choices.hourly")
    if times == TWICE_DAILY:
        return texts("choices.twice", times=" & ".join(times))
    return texts("choices.daily", time=times[0])


def settings_rows(choices: ChatChoices, texts: Texts) -> list[list[Button]]:
    """The settings keyboard, ticking the chat's current choices."""

    def tick(on: bool, label: str, data: str) -> Button:
        return Button(f"{'✅' if on else '▫️'} {label}", SETTINGS_PREFIX + data)

    mode = choices.mode
    quiet = choices.quiet is not None
    zone = choices.time_zone
    return [
        [
            tick(mode == INSTANT, "instant", "m:instant"),
            tick(mode == "hourly", "hourly", "m:hourly"),
        ],
        [
            tick(mode == "twice", "twice daily", "m:twice"),
            tick(mode.startswith("daily"), "daily 08:00", "m:daily 08:00"),
        ],
        [
            tick(quiet, f"🌙 {QUIET_BUTTON[0]}–{QUIET_BUTTON[1]}", "q:" + "-".join(QUIET_BUTTON)),
            tick(not quiet, f"🔔 {texts('choices.off')}", "q:off"),
        ],
        [tick(choices.breaking_in_quiet, texts("choices.breaking_button"), "b")],
        [tick(zone == name, name, f"z:{name}") for name in ZONE_BUTTONS],
        [
            Button(texts("choices.clear_filters_button"), SETTINGS_PREFIX + "f"),
            Button(texts("choices.categories_button"), SETTINGS_PREFIX + "c"),
        ],
    ]


def _list(words: Sequence[str]) -> str:
    return ", ".join(words)
