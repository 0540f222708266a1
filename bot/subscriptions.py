"""What a chat receives, as plain values: categories, article languages, and what to show.

The reader commands are thin: they turn a Telegram update into words and a chat's current
subscriptions, call the functions here, and store or send what comes back. Everything that has a
rule in it (which words name which category, what "all" means once a chat drops one category,
what `/latest world 3` asks for, which posts a new subscriber gets first) lives here, with no
Telegram types, so it is tested with plain values.

A chat's subscriptions are a set of category keys; `ALL` in it means every category, including
ones the newsroom has not created yet. A chat's languages are a set of language codes, or None
for every language; a post without a language reaches every chat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.posts import LANGUAGE_CODE, Category, Post, category_key, primary_language
from bot.store import ALL

DEFAULT_LATEST = 5
MOST_LATEST = 10
#: Words that mean every category.
ALL_WORDS = frozenset({"all", "*", "everything"})
#: Words that mean no category (in `/unsubscribe`) or every language (in `/language`).
NONE_WORDS = frozenset({"none", "nothing"})
#: Deep links carry only A-Z a-z 0-9 _ -; category keys use _, so several are joined with -.
DEEP_LINK_SEPARATOR = "-"

# Callback data of the categories keyboard: at most 64 bytes, and a key is at most 32 characters.
BUTTON_PREFIX = "cat:"
BUTTON_ALL = "cat:*"
BUTTON_NONE = "cat:-"
#: Telegram allows 100 buttons per keyboard; two are "All" and "None".
MAX_CATEGORY_BUTTONS = 98
BUTTONS_PER_ROW = 2
#: Backlog candidates offered beyond the number wanted, for archived posts the store skips.
BACKLOG_SPARE = 20
#: The most words of a command the core reads; the rest are ignored. A message may carry 4,096
#: characters, and a reader's command must cost every other reader nothing: with this cap and
#: runs no longer than the longest category name, reading words takes time linear in their length.
MOST_WORDS = 32


# --- categories ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """Category keys read from a reader's words (`ALL` among them for "all"), and the rest."""

    keys: frozenset[str] = frozenset()
    unknown: tuple[str, ...] = ()


def _word_key(word: str) -> str:
    return category_key(word.strip().lstrip("#/"))


def choose_categories(words: Sequence[str], categories: Mapping[str, Category]) -> Choice:
    """The categories a reader named, by key, name or hashtag, in any case.

    A name of several words ("Asia Pacific") may be typed as its words, so the longest run of
    words that names a category wins before single words are tried. Only the first
    `MOST_WORDS` words are read, and no run is tried that is longer than the longest name.
    """
    words = [w.strip(" ,") for w in words[:MOST_WORDS]]
    words = [w for w in words if w]
    longest = _longest_name(categories)
    keys: set[str] = set()
    unknown: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word.lower() in ALL_WORDS:
            keys.add(ALL)
            index += 1
            continue
        for end in range(min(len(words), index + longest), index, -1):
            key = _word_key(" ".join(words[index:end]))
            if key in categories:
                keys.add(key)
                index = end
                break
        else:
            unknown.append(word)
            index += 1
    return Choice(frozenset(keys), tuple(unknown))


def _longest_name(categories: Mapping[str, Category]) -> int:
    """The most words a category's name or key can be typed as ("Asia Pacific": 2)."""
    return max(
        (
            max(len(c.name.split()), len(re.findall(r"[^\W_]+", c.name)), len(key.split("_")))
            for key, c in categories.items()
        ),
        default=1,
    )


def deep_link_categories(payload: Sequence[str], categories: Mapping[str, Category]) -> Choice:
    """The categories a `t.me/<bot>?start=world-business` link names (its payload's words)."""
    words = [
        part for word in payload[:MOST_WORDS] for part in word.split(DEEP_LINK_SEPARATOR) if part
    ]
    return choose_categories(words, categories)


def receiving(subscribed: Iterable[str], known: Iterable[str]) -> frozenset[str]:
    """The category keys a chat receives today: `ALL` spelled out as every known key."""
    subscribed = frozenset(subscribed)
    if ALL in subscribed:
        return (subscribed - {ALL}) | frozenset(known)
    return subscribed


def with_categories(subscribed: Iterable[str], added: Iterable[str]) -> frozenset[str]:
    """Subscriptions after adding some; adding `ALL` makes them `ALL` alone."""
    result = frozenset(subscribed) | frozenset(added)
    return frozenset({ALL}) if ALL in result else result


def without_categories(
    subscribed: Iterable[str], removed: Iterable[str], known: Iterable[str]
) -> frozenset[str]:
    """Subscriptions after dropping some; dropping one from `ALL` keeps every other one known.

    That turns "everything" into a fixed list, so a category created later is not received:
    the reader chose categories, and a new one is theirs to add.
    """
    removed = frozenset(removed)
    if ALL in removed:
        return frozenset()
    subscribed = frozenset(subscribed)
    if ALL in subscribed and not removed & frozenset(known):
        return subscribed  # nothing known was removed: "everything" stays everything
    return receiving(subscribed, known) - removed


def starting(kept: Iterable[str], named: Iterable[str]) -> frozenset[str]:
    """What a chat receives after `/start` (or `/subscribe @channel`): the one rule for both.

    Categories named (by a deep link, or after the channel) are added to the chat's earlier
    choice. With none named, a returning chat keeps the choice it had, and a chat that had none
    (new, or one that chose "None") receives everything.
    """
    kept, named = frozenset(kept), frozenset(named)
    if named:
        return with_categories(kept, named)
    return kept or frozenset({ALL})


def toggled(subscribed: Iterable[str], key: str, known: Iterable[str]) -> frozenset[str]:
    """Subscriptions after pressing one category's button."""
    subscribed = frozenset(subscribed)
    if is_ticked(subscribed, key):
        return without_categories(subscribed, {key}, known)
    return with_categories(subscribed, {key})


def is_ticked(subscribed: Iterable[str], key: str) -> bool:
    """Whether a category's button shows as subscribed."""
    subscribed = frozenset(subscribed)
    return ALL in subscribed or key in subscribed


def category_names(subscribed: Iterable[str], categories: Mapping[str, Category]) -> list[str]:
    """Display names of subscribed categories, in the newsroom's order (`ALL` left out)."""
    subscribed = frozenset(subscribed)
    names = [category.name for key, category in categories.items() if key in subscribed]
    # A category no post uses any more is still a subscription: show its key.
    names.extend(sorted(subscribed - categories.keys() - {ALL}))
    return names


@dataclass(frozen=True, slots=True)
class Button:
    """One keyboard button as data: what it says and what pressing it sends back."""

    label: str
    data: str


def categories_keyboard(
    subscribed: Iterable[str],
    categories: Mapping[str, Category],
    *,
    all_label: str,
    none_label: str,
    ticked: str = "✅",
    unticked: str = "▫️",
) -> list[list[Button]]:
    """One toggle per category (two a row), then "All" and "None"."""
    subscribed = frozenset(subscribed)
    buttons = [
        Button(f"{ticked if is_ticked(subscribed, key) else unticked} {category.name}", key)
        for key, category in list(categories.items())[:MAX_CATEGORY_BUTTONS]
    ]
    rows = [
        [Button(b.label, BUTTON_PREFIX + b.data) for b in buttons[i : i + BUTTONS_PER_ROW]]
        for i in range(0, len(buttons), BUTTONS_PER_ROW)
    ]
    everything = ALL in subscribed
    nothing = not subscribed
    rows.append(
        [
            Button(f"{ticked if everything else unticked} {all_label}", BUTTON_ALL),
            Button(f"{ticked if nothing else unticked} {none_label}", BUTTON_NONE),
        ]
    )
    return rows


def pressed(data: str, subscribed: Iterable[str], known: Iterable[str]) -> frozenset[str] | None:
    """Subscriptions after a button press, or None for data no current button sends."""
    if data == BUTTON_ALL:
        return frozenset({ALL})
    if data == BUTTON_NONE:
        return frozenset()
    key = data.removeprefix(BUTTON_PREFIX)
    known = frozenset(known)
    if not data.startswith(BUTTON_PREFIX) or key not in known:
        return None
    return toggled(subscribed, key, known)


# --- languages -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """Languages read from `/language` words: None for all; codes that made no sense."""

    languages: frozenset[str] | None
    invalid: tuple[str, ...] = ()


def choose_languages(words: Sequence[str]) -> LanguageChoice:
    """The article languages a chat asked for: codes like "en th", or "all"."""
    codes: set[str] = set()
    invalid: list[str] = []
    for word in (w.strip(" ,").lower() for w in words[:MOST_WORDS]):
        if not word:
            continue
        if word in ALL_WORDS:
            return LanguageChoice(None)
        match = LANGUAGE_CODE.fullmatch(word)
        if match:
            codes.add(match.group(1))
        else:
            invalid.append(word)
    return LanguageChoice(frozenset(codes), tuple(invalid))


def changes_languages(words: Sequence[str]) -> bool:
    """Whether `/language` words choose languages, rather than ask which ones the chat reads.

    Anyone may ask; choosing changes what the chat receives, so it needs the right to.
    """
    choice = choose_languages(words)
    return bool(choice.invalid) or choice.languages != frozenset()


def reads(languages: frozenset[str] | None, post: Post) -> bool:
    """Whether a chat reading `languages` receives this post."""
    language = primary_language(post.language)
    return languages is None or language is None or language in languages


# --- which posts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatestRequest:
    """What `/latest [category] [N]` (or `/world [N]`) asks for."""

    category: str | None = None
    count: int = DEFAULT_LATEST
    unknown: tuple[str, ...] = ()


def latest_request(
    words: Sequence[str],
    categories: Mapping[str, Category],
    *,
    category: str | None = None,
    default: int = DEFAULT_LATEST,
    most: int = MOST_LATEST,
) -> LatestRequest:
    """Read a count (1 to `most`) and at most one category, in either order.

    A category command (`/world 3`) passes its own category; naming another one is unknown.
    """
    count = default
    names: list[str] = []
    for word in words[:MOST_WORDS]:
        if re.fullmatch(r"[+-]?\d{1,6}", word):
            count = min(max(int(word), 1), most)
        else:
            names.append(word)
    choice = choose_categories(names, categories)
    keys = sorted(choice.keys - {ALL})
    unknown = list(choice.unknown)
    if category is None and keys:
        category, keys = keys[0], keys[1:]
    unknown.extend(k for k in keys if k != category)
    return LatestRequest(category, count, tuple(unknown))


def newest(
    posts: Iterable[Post],
    now: datetime,
    *,
    count: int,
    category: str | None = None,
    languages: frozenset[str] | None = None,
) -> list[Post]:
    """The newest live posts (of one category, in the chat's languages), newest first.

    `posts` must already be newest first, as `PostLibrary.posts` is.
    """
    found: list[Post] = []
    for post in posts:
        if len(found) >= count:
            break
        if not post.is_live(now) or not reads(languages, post):
            continue
        if category is not None and all(c.key != category for c in post.categories):
            continue
        found.append(post)
    return found


def backlog_candidates(
    posts: Iterable[Post],
    now: datetime,
    *,
    subscribed: Iterable[str],
    languages: frozenset[str] | None,
    count: int,
) -> list[str]:
    """Ids of the newest posts a new subscriber would have received, newest first.

    More than `count` are offered, since the store skips the posts it never pushed.
    """
    if count <= 0:
        return []
    subscribed = frozenset(subscribed)
    ids: list[str] = []
    for post in posts:
        if len(ids) >= count + BACKLOG_SPARE:
            break
        if not post.is_live(now) or not reads(languages, post):
            continue
        if ALL in subscribed or any(c.key in subscribed for c in post.categories):
            ids.append(post.id)
    return ids
