"""Editors' actions decided without Telegram: breaking news, pushes, retractions, the figures.

Anything that reaches readers goes through two steps: the editor sees what will happen (the exact
card, shown by the handler) and confirms it with a button. A `Request` waits for that in `Pending`,
in memory, for half an hour; a restart forgets unconfirmed requests, which only means asking
again. What each kind of request does, once confirmed, is `EditorDesk.carry_out`: one branch per
`Kind`, and no other kind can exist.

Breaking news and retractions are written as files (`bot.newsroom`), so the archive and the bot
never disagree; a push only queues deliveries of a post readers may already see. A confirmed
breaking item or push turns the editor's confirmation into a live report of its broadcast
(`bot.progress`): the answer then carries the report's id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import assert_never

from bot.errors import EditorError
from bot.i18n import Texts
from bot.newsroom import (
    breaking_post,
    draft_breaking,
    mark_retracted,
    preview_post,
    write_post_file,
)
from bot.posts import Post, PostLibrary, ScanReport
from bot.progress import BREAKING, PUSH, Broadcasts
from bot.queue import QueueReport
from bot.store import ALL, NewPost, Store

log = logging.getLogger(__name__)

BREAKING_PRIORITY = 100
"""Breaking news overtakes everything queued."""
PUSH_PRIORITY = 50
PENDING_SECONDS = 30 * 60
"""How long a request waits for its editor's confirmation."""
STATS_HOURS = 24

Refresh = Callable[..., Awaitable[tuple[ScanReport, QueueReport | None]]]
"""Rescan the content folder and queue what changed (`Newsbot.refresh`)."""


class Kind(StrEnum):
    """What an editor asked to do."""

    BREAKING = "breaking"
    PUSH = "push"
    RETRACT = "retract"

    @property
    def confirm(self) -> str:
        """The text key of the button that carries it out."""
        return "admin.button_retract" if self is Kind.RETRACT else "admin.button_send"


@dataclass(frozen=True, slots=True)
class Request:
    """An editor's request waiting for "Send" or "Cancel"."""

    kind: Kind
    editor: int
    post: Post
    created: float
    category: str | None = None
    file_text: str | None = None
    """For breaking news: the post file to write when confirmed."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """What to put before the editor: a request and its question, or why there is none."""

    text: str
    request: Request | None = None

    @property
    def preview(self) -> bool:
        """Whether the editor sees the card first: for all that sends one to readers."""
        return self.request is not None and self.request.kind is not Kind.RETRACT


@dataclass(frozen=True, slots=True)
class Answer:
    """What to tell the editor once they answered a request."""

    text: str
    report: int | None = None
    """The live report the confirmation became (its id), while its broadcast is under way:
    it gets a "Stop" button."""


Place = tuple[int, int]
"""Where a message is: (chat id, message id)."""


class Pending:
    """Requests waiting for confirmation, each under a token nobody can guess, for a while."""

    def __init__(
        self, *, lifetime: float = PENDING_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._requests: dict[str, Request] = {}

    def add(self, request: Request) -> str:
        """Keep a request; returns its token (expired ones are forgotten meanwhile)."""
        now = self._clock()
        self._requests = {
            token: pending
            for token, pending in self._requests.items()
            if now - pending.created < self._lifetime
        }
        token = secrets.token_hex(8)
        self._requests[token] = request
        return token

    def take(self, token: str) -> Request | None:
        """The request under `token`, once: None when unknown, already taken, or expired."""
        request = self._requests.pop(token, None)
        if request is None or self._clock() - request.created >= self._lifetime:
            return None
        return request


class EditorDesk:
    """The editors' actions on the archive, the store and the queue."""

    def __init__(
        self,
        store: Store,
        library: PostLibrary,
        *,
        editors_dir: Path,
        newsroom: Path | None,
        publishing: asyncio.Lock,
        refresh: Refresh,
        wake: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`publishing` is held while the folder is scanned and queued; `wake` tells the sender
        that deliveries were queued. Breaking items are written under `editors_dir`;
        retractions are recorded in `newsroom` when there is one, else in the post's file."""
        self._store = store
        self._library = library
        self._editors_dir = editors_dir
        self._newsroom = newsroom
        self._publishing = publishing
        self._refresh = refresh
        self._wake = wake
        self._clock = clock
        self.pending = Pending(clock=clock)
        self.broadcasts = Broadcasts(store, clock=clock)

    # --- proposals ------------------------------------------------------------------------------

    async def breaking(
        self, html: str, photo_id: str | None, editor: int, texts: Texts
    ) -> Proposal:
        """Draft a breaking item from the editor's message (Telegram HTML, `/breaking` first)."""
        categories = {key: c.name for key, c in self._library.categories.items()}
        now = datetime.fromtimestamp(self._clock(), UTC)
        try:
            draft = draft_breaking(html, categories=categories, photo_id=photo_id)
            path, text = breaking_post(draft, self._editors_dir, now)
            post = preview_post(path, text)
        except EditorError as exc:
            return Proposal(texts("admin.breaking_usage", problem=str(exc)))
        count = await self._store.push_audience(post.id, None)
        request = Request(Kind.BREAKING, editor, post, self._clock(), file_text=text)
        log.info("admin breaking drafted user=%s post=%s", editor, post.id)
        return Proposal(texts("admin.confirm_breaking", count=count), request)

    async def push(self, args: Sequence[str], editor: int, texts: Texts) -> Proposal:
        """`/push <post-id> [category|all]`: to the chats (of a category) that lack the post."""
        post = self._live_post(args, texts, "admin.push_usage")
        if isinstance(post, str):
            return Proposal(post)
        category: str | None = None
        if len(args) > 1 and args[1].lower() != "all":
            category = args[1].lower()
            if category not in self._library.categories:
                return Proposal(texts("admin.unknown_category", category=args[1]))
        count = await self._store.push_audience(post.id, category)
        if not count:
            return Proposal(texts("admin.nobody", post=post.id))
        request = Request(Kind.PUSH, editor, post, self._clock(), category=category)
        return Proposal(texts("admin.confirm_push", post=post.id, count=count), request)

    async def retract(self, args: Sequence[str], editor: int, texts: Texts) -> Proposal:
        """`/retract <post-id>`: mark the post retracted, which takes it back from every chat."""
        post = self._live_post(args, texts, "admin.retract_usage")
        if isinstance(post, str):
            return Proposal(post)
        counts = await self._store.delivery_counts(post.id)
        request = Request(Kind.RETRACT, editor, post, self._clock())
        prompt = texts("admin.confirm_retract", post=post.id, count=counts.get("sent", 0))
        return Proposal(prompt, request)

    def _live_post(self, args: Sequence[str], texts: Texts, usage: str) -> Post | str:
        """The post the first word names, if readers may see it now; else what is wrong."""
        if not args:
            return texts(usage)
        post = self._library.get(args[0])
        if post is None:
            return texts("admin.unknown_post", post=args[0])
        if not post.is_live(datetime.fromtimestamp(self._clock(), UTC)):
            return texts("admin.not_live", post=post.id)
        return post

    # --- confirmations --------------------------------------------------------------------------

    async def answer(
        self,
        request: Request,
        *,
        confirmed: bool,
        editor: int,
        texts: Texts,
        report_at: Place | None = None,
    ) -> Answer:
        """Carry out a confirmed request, or drop a cancelled one; what to tell the editor.

        `report_at` is the confirmation message, which becomes the live report of a broadcast.
        """
        post = request.post.id
        if not confirmed:
            log.info("admin cancelled user=%s action=%s post=%s", editor, request.kind, post)
            return Answer(texts("admin.cancelled"))
        done = await self.carry_out(request, texts, report_at=report_at)
        log.info("admin action user=%s action=%s post=%s", editor, request.kind, post)
        return done

    async def carry_out(
        self, request: Request, texts: Texts, *, report_at: Place | None = None
    ) -> Answer:
        """Do what the editor confirmed; what to tell them (a live report, given `report_at`,
        when deliveries were queued)."""
        post = request.post
        match request.kind:
            case Kind.BREAKING:
                after = await self._store.last_delivery_id()
                count = await self._publish_breaking(request)
                said = texts("admin.sent_breaking", post=post.id, count=count)
                return await self._report(post.id, BREAKING, after, report_at, texts, said)
            case Kind.PUSH:
                after = await self._store.last_delivery_id()
                count = await self._store.push(
                    post.id, post.card_digest, category=request.category, priority=PUSH_PRIORITY
                )
                self._wake()
                said = texts("admin.sent_push", post=post.id, count=count)
                return await self._report(post.id, PUSH, after, report_at, texts, said)
            case Kind.RETRACT:
                current = self._library.get(post.id) or post
                try:
                    await asyncio.to_thread(
                        mark_retracted, current, newsroom=self._newsroom, read=self._library.read_as
                    )
                except EditorError as exc:
                    return Answer(texts("admin.retract_failed", post=post.id, problem=str(exc)))
                await self._refresh()
                return Answer(texts("admin.retracted", post=post.id))
            case _:
                assert_never(request.kind)

    async def _report(
        self, post_id: str, kind: str, after: int, at: Place | None, texts: Texts, said: str
    ) -> Answer:
        """The confirmation becomes the live report of the deliveries queued after `after`;
        without a message to report in, or nothing queued, `said` is the answer."""
        if at is None:
            return Answer(said)
        chat_id, message_id = at
        snapshot = await self.broadcasts.open(
            post_id, kind, after=after, chat_id=chat_id, message_id=message_id, texts=texts
        )
        if snapshot is None:
            return Answer(said)
        return Answer(snapshot.text, None if snapshot.over else snapshot.report.id)

    async def _publish_breaking(self, request: Request) -> int:
        """Write the item into the archive and queue it for every active chat, first."""
        post, text = request.post, request.file_text or ""
        async with self._publishing:  # no scan may queue the file as an ordinary post meanwhile
            written = await asyncio.to_thread(write_post_file, post.path, text)
            await asyncio.to_thread(self._library.scan)
            queued = await self._store.add_posts(
                [
                    NewPost(
                        written.id,
                        written.card_digest,
                        tuple(c.key for c in written.categories),
                        priority=BREAKING_PRIORITY,
                        language=written.language,
                        everyone=True,
                    )
                ]
            )
        self._wake()
        # The scan above may also have found other new posts: queue them as usual now.
        await self._refresh(queue=True)
        return queued

    # --- oversight ------------------------------------------------------------------------------

    async def stats(self, texts: Texts) -> str:
        """Subscribers, posts, the last day's deliveries, the queue and the latest errors."""
        figures = await self._store.stats(since=self._clock() - STATS_HOURS * 3600)
        lines = [texts("admin.stats_title")]
        for kind, (active, inactive) in sorted(figures.chats.items()):
            lines.append(texts("admin.stats_chats", kind=kind, active=active, inactive=inactive))
        names = {key: c.name for key, c in self._library.categories.items()}
        names[ALL] = texts("subscriptions.all")
        for category, count in figures.subscribers.items():
            name = names.get(category, category)
            lines.append(texts("admin.stats_category", name=name, count=count))
        loaded = len(self._library.posts)
        lines.append(texts("admin.stats_posts", loaded=loaded, seen=figures.posts_seen))
        day = figures.deliveries
        sent, failed, pending = (day.get(status, 0) for status in ("sent", "failed", "pending"))
        lines.append(texts("admin.stats_deliveries", sent=sent, failed=failed, pending=pending))
        lines.append(texts("admin.stats_queue", count=figures.queue_depth))
        for post_id, chat_id, error in figures.last_errors:
            lines.append(texts("admin.stats_error", post=post_id, chat=chat_id, error=error[:200]))
        return "\n".join(lines)

    async def reload(self, texts: Texts) -> str:
        """Rescan the content folder now and say what changed."""
        scan, report = await self._refresh(queue=True)
        summary = texts(
            "admin.reloaded",
            added=len(scan.added),
            changed=len(scan.changed),
            removed=len(scan.removed),
            rejected=len(scan.rejected),
            queued=report.deliveries if report else 0,
        )
        return "\n".join([summary, *(f"{r.path}: {r.reason}" for r in scan.rejected[:10])])
