"""Finding articles in the archive: a reader's words as search terms, pages of results, and
what the bot says about them; no Telegram types.

- Words are compared in Unicode's NFC form, as the index keeps them (not NFKC, which would
  take Thai's SARA AM apart and miss every word that has one).
- Readers' words are hostile input: at most `MOST_CHARACTERS` characters and `MOST_TERMS`
  terms are read, each term stripped of the punctuation around it, and terms without a letter
  or digit dropped. The store quotes every term, so nothing typed is FTS5 syntax.
- A page holds `PAGE` posts; `MOST_PAGES` pages can be turned. Every hit is checked against the
  library at the moment of asking, so a post withdrawn since the index last changed is never
  shown.
- At most `SEARCHES_AT_ONCE` searches run at a time: a crowd of searching readers queues up
  behind them, while the database keeps room for the sender's and the other commands' queries.
- The "Next" button carries a short key of the words (`QueryKeys`), not the words themselves:
  callback data is at most 64 bytes, and Thai takes three bytes a character. Keys live in memory
  (the most recent `QueryKeys.size`); a button older than that, or than the last restart, says
  the search has expired.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.i18n import Texts
from bot.posts import Post, PostLibrary
from bot.render import SHARE_PREFIX
from bot.store import Store
from bot.subscriptions import Button

PAGE = 5
MOST_PAGES = 20
MOST_CHARACTERS = 100
MOST_TERMS = 8
SEARCHES_AT_ONCE = 2
#: Inline results per answer, and the most an inline query can scroll through.
INLINE_PAGE = 10
INLINE_MOST = 50
#: What starts the callback data of the result list's buttons.
BUTTON_PREFIX = "find:"


def search_terms(words: str) -> tuple[str, ...]:
    """The terms to look for in what a reader typed: normalised, trimmed, at most a few."""
    text = unicodedata.normalize("NFC", words[: MOST_CHARACTERS * 2])[:MOST_CHARACTERS]
    terms: list[str] = []
    for word in text.lower().split():
        term = _trim(word)
        if term and any(c.isalnum() for c in term) and term not in terms:
            terms.append(term)
        if len(terms) == MOST_TERMS:
            break
    return tuple(terms)


def _trim(word: str) -> str:
    """The word without punctuation or symbols at either end ("(flood," -> "flood")."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[start:end]


@dataclass(frozen=True, slots=True)
class Results:
    """One page of a search: its posts, best first, and whether there is a next page."""

    terms: tuple[str, ...]
    page: int
    posts: tuple[Post, ...]
    more: bool


class QueryKeys:
    """Short keys for searches, so a button can name one within Telegram's 64 bytes."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._words: OrderedDict[str, str] = OrderedDict()

    def key(self, words: str) -> str:
        """The key of `words` (the same words, the same key), remembered as the newest."""
        digest = hashlib.sha256(words.encode()).digest()
        key = base64.urlsafe_b64encode(digest[:6]).decode()
        self._words[key] = words
        self._words.move_to_end(key)
        while len(self._words) > self.size:
            self._words.popitem(last=False)
        return key

    def words(self, key: str) -> str | None:
        """The words a key stands for, if they are still remembered."""
        return self._words.get(key)


class Finder:
    """Searches of the archive for one running bot."""

    def __init__(self, store: Store, library: PostLibrary) -> None:
        self._store = store
        self._library = library
        self._turns = asyncio.Semaphore(SEARCHES_AT_ONCE)
        self.keys = QueryKeys()

    async def find(self, words: str, now: datetime, *, page: int = 0) -> Results:
        """Page `page` (from 0) of the posts matching `words`, best first."""
        terms = search_terms(words)
        page = min(max(page, 0), MOST_PAGES - 1)
        posts, more = await self._live(terms, now, offset=page * PAGE, count=PAGE)
        return Results(terms, page, tuple(posts), more and page + 1 < MOST_PAGES)

    async def inline(self, query: str, now: datetime, *, offset: int = 0) -> tuple[list[Post], int]:
        """Posts for an inline query: one shared article, the newest (no words), or matches.

        Returns the posts and the offset of the next answer (0 when there is none).
        """
        query = query.strip()
        if query.startswith(SHARE_PREFIX):
            post = self._library.get(query[len(SHARE_PREFIX) :].strip())
            return ([post] if post is not None and post.is_live(now) else []), 0
        offset = min(max(offset, 0), INLINE_MOST)
        count = min(INLINE_PAGE, INLINE_MOST - offset)
        terms = search_terms(query)
        if not terms:
            latest = self._library.latest(now, limit=offset + count + 1)
            return latest[offset : offset + count], _next(
                offset, count, len(latest) > offset + count
            )
        posts, more = await self._live(terms, now, offset=offset, count=count)
        return posts, _next(offset, count, more)

    def card_post(
        self, now: datetime, *, links: Sequence[str], headline: str | None
    ) -> Post | None:
        """The live post a card shows, found by its links, else by its headline.

        A walk over the archive, newest first: for /share, which is rare, it saves keeping
        an index by address.
        """
        for post in self._library.posts:
            if not post.is_live(now):
                continue
            if (post.url is not None and post.url in links) or (
                not links and headline is not None and post.title == headline
            ):
                return post
        return None

    async def _live(
        self, terms: tuple[str, ...], now: datetime, *, offset: int, count: int
    ) -> tuple[list[Post], bool]:
        if not terms:
            return [], False
        async with self._turns:
            ids = await self._store.search_posts(terms, offset=offset, limit=count + 1)
        posts = [post for post_id in ids if (post := self._library.get(post_id)) is not None]
        live = [post for post in posts if post.is_live(now)]
        return live[:count], len(ids) > count


def _next(offset: int, count: int, more: bool) -> int:
    return offset + count if more and offset + count < INLINE_MOST else 0


# --- what the bot says ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultList:
    """A page of results as a message: HTML text and a row of buttons (none when one page)."""

    html: str
    buttons: tuple[Button, ...]


def result_list(results: Results, texts: Texts, key: str, *, zone: tzinfo) -> ResultList:
    """The compact list a reader sees: each headline linked, its category and date."""
    words = html.escape(" ".join(results.terms), quote=False)
    if not results.terms:
        return ResultList(html.escape(texts("search.how"), quote=False), ())
    if not results.posts:
        key_text = "search.nothing" if results.page == 0 else "search.no_more"
        return ResultList(texts(key_text, words=words), ())
    first = results.page * PAGE + 1
    lines = [texts("search.header", words=words, first=first, last=first + len(results.posts) - 1)]
    for number, post in enumerate(results.posts, start=first):
        lines.append(f"{number}. {_headline(post)}\n{html.escape(_dateline(post, zone))}")
    buttons: list[Button] = []
    if results.page > 0:
        buttons.append(Button(texts("search.previous"), f"{BUTTON_PREFIX}{key}:{results.page - 1}"))
    if results.more:
        buttons.append(Button(texts("search.next"), f"{BUTTON_PREFIX}{key}:{results.page + 1}"))
    return ResultList("\n\n".join(lines), tuple(buttons))


def read_button(data: str) -> tuple[str, int] | None:
    """The key and page a result list's button carries, or None for data that is not one."""
    key, _, page = data.removeprefix(BUTTON_PREFIX).partition(":")
    if not data.startswith(BUTTON_PREFIX) or not key or not page.isdigit() or len(page) > 3:
        return None
    return key, int(page)


def _headline(post: Post) -> str:
    title = html.escape(post.title, quote=False)
    if post.url is None:
        return f"<b>{title}</b>"
    return f'<a href="{html.escape(post.url, quote=True)}">{title}</a>'


def _dateline(post: Post, zone: tzinfo) -> str:
    moment = post.date_in(zone)
    day = f"{moment.day} {moment:%b %Y}"
    return f"{post.category.name} · {day}" if post.category is not None else day
