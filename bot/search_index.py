"""Keeping the archive's full-text index in step with the posts readers may see.

The index (`bot.store.search`) holds exactly the live posts: published, not retracted, their
date reached. After every pass of the scanner, `SearchIndex.sync` compares what is indexed
(post id -> the digest of the file it was read from) with the library: a new or edited post is
(re)indexed, and a post removed from the folder, retracted (in its file or by an editor),
unpublished or moved to a future date is removed. A future-dated post is indexed once its time
comes, like a delivery.

The index never drifts from the folder: the first sync after a start compares every post's
digest with the index's, so whatever changed while the bot was stopped is caught, and an index
written by other rules (`INDEX_FORMAT` changes with the way text is extracted) is rebuilt from
scratch. Searches also check every hit against the library, so a post withdrawn a moment ago is
never shown even before the next sync.

The body is indexed as plain text: front matter, Liquid, HTML tags, Markdown's marks, link and
image addresses removed; at most `BODY_CHARACTERS` of it, so one huge file cannot bloat the
index. Bodies are read in a worker thread, a batch at a time.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from bot.errors import PostError
from bot.posts import Post
from bot.posts.folder import read_bytes
from bot.posts.parse import decode
from bot.store import IndexedText, Store

log = logging.getLogger(__name__)

#: Changes whenever the text extracted for the index changes: an index of another format is
#: rebuilt at start.
INDEX_FORMAT = "plain text 1"
FORMAT_SETTING = "search_index_format"
#: The most of a body the index keeps.
BODY_CHARACTERS = 20_000
#: Posts read and written per transaction.
BATCH = 500

# Every pattern is linear in the text, however hostile: no unbounded lazy match, and no run that
# can start again at every character of a long line.
_FRONT_MATTER = re.compile(r"\A\s*---[^\n]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_LIQUID = re.compile(r"\{%[^%{]{0,500}%\}|\{\{[^{}]{0,500}\}\}|\{:[^{}\n]{0,500}\}")
_IMAGE = re.compile(r"!\[([^\[\]\n]{0,500})\]\([^()\[\]\s]{0,2000}\)")
_LINK = re.compile(r"\[([^\[\]\n]{0,500})\]\([^()\[\]\s]{0,2000}\)")
_TAG = re.compile(r"<[^<>]{0,2000}>")
_REFERENCE = re.compile(r"^[ \t]{0,3}\[[^\]\n]{1,500}\]:[ \t]*\S+[^\n]*$", re.MULTILINE)
_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}|>|[-*+]|\d+[.)])\s+|[*_~`]+|^\s*[-=]{3,}\s*$", re.MULTILINE)


def plain_body(raw: bytes, *, is_html: bool = False) -> str:
    """A post file's body as plain text, for the index: no front matter, markup or addresses."""
    text = _FRONT_MATTER.sub("", decode(raw)[: BODY_CHARACTERS * 8], count=1)
    text = _LIQUID.sub(" ", text[: BODY_CHARACTERS * 4])
    if not is_html:
        text = _IMAGE.sub(r"\1", text)
        text = _LINK.sub(r"\1", text)
        text = _REFERENCE.sub(" ", text)
        text = _MARKS.sub(" ", text)
    text = html.unescape(_TAG.sub(" ", text))
    return " ".join(text.split())[:BODY_CHARACTERS]


def indexed_text(post: Post) -> IndexedText:
    """What the index keeps of `post`; a file that cannot be read again indexes its card alone."""
    try:
        body = plain_body(read_bytes(post.path), is_html=post.path.suffix.lower() == ".html")
    except PostError as exc:
        log.info("post body not indexed post=%s reason=%s", post.id, exc)
        body = ""
    return IndexedText(
        post_id=post.id,
        digest=_digest(post),
        published=post.date.timestamp(),
        headline=_nfc(post.title),
        summary=_nfc(post.summary_text),
        body=_nfc(body),
    )


def _nfc(text: str) -> str:
    """Text in the form searches compare (`bot.search.search_terms`)."""
    return unicodedata.normalize("NFC", text)


def _read_texts(posts: Sequence[Post]) -> list[IndexedText]:
    return [indexed_text(post) for post in posts]


def _digest(post: Post) -> str:
    return post.digest or post.card_digest


class SearchIndex:
    """The index of one running bot, and what it holds, kept in memory between syncs."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._indexed: dict[str, str] | None = None
        self._next_due: datetime | None = None
        self._owed = True

    async def sync(self, posts: Sequence[Post], now: datetime, *, changed: bool = True) -> int:
        """Bring the index in step with `posts` at `now`; returns how many posts it changed.

        Costs nothing when the posts did not change (`changed` False), no future post came
        due, and the last sync succeeded.
        """
        due = self._next_due is not None and self._next_due <= now
        if not (changed or due or self._owed):
            return 0
        self._owed = True  # until this sync has finished: a failed one is made up for next time
        indexed = await self._load()
        live: dict[str, Post] = {}
        next_due: datetime | None = None
        for post in posts:
            if post.is_live(now):
                live[post.id] = post
            elif post.published and not post.retracted:
                next_due = post.date if next_due is None else min(next_due, post.date)
        gone = [post_id for post_id in indexed if post_id not in live]
        # Oldest first: the index hands matches over newest first by the order rows went in.
        stale = sorted(
            (post for post_id, post in live.items() if indexed.get(post_id) != _digest(post)),
            key=lambda post: post.date,
        )
        if gone:
            await self._store.unindex_posts(gone)
            for post_id in gone:
                del indexed[post_id]
        for start in range(0, len(stale), BATCH):
            batch = stale[start : start + BATCH]
            texts = await asyncio.to_thread(_read_texts, batch)
            await self._store.index_posts(texts)
            indexed.update((text.post_id, text.digest) for text in texts)
        self._next_due, self._owed = next_due, False
        if gone or stale:
            log.info("search index updated indexed=%d removed=%d", len(stale), len(gone))
        return len(gone) + len(stale)

    async def _load(self) -> dict[str, str]:
        """What the index holds; an index of another format is emptied first."""
        if self._indexed is not None:
            return self._indexed
        if await self._store.get_setting(FORMAT_SETTING) != INDEX_FORMAT:
            await self._store.clear_search_index()
            await self._store.set_setting(FORMAT_SETTING, INDEX_FORMAT)
            log.info("search index rebuilt format=%r", INDEX_FORMAT)
        self._indexed = await self._store.indexed_posts()
        return self._indexed
