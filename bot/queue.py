"""Deciding which posts are new and queueing them for the chats that want them.

A post is new when the database has never seen its id. It is queued only when it is live
(published, not retracted, its date reached) so a future-dated post is found again, and queued,
once its time comes. Two cases are archived instead of pushed: everything already in the folder
the very first time newsbot starts, and any post whose own date is older than the maximum age
when it is found (a bulk import of old articles must not flood readers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.posts import Post, PostLibrary, primary_language
from bot.store import DELETE_WINDOW_SECONDS, NewPost, Store

log = logging.getLogger(__name__)

ARCHIVE_TAKEN = "archive_taken"


@dataclass(frozen=True, slots=True)
class QueueReport:
    """What one pass found."""

    queued_posts: tuple[str, ...] = ()
    archived_posts: tuple[str, ...] = ()
    deliveries: int = 0
    next_release: datetime | None = None
    """When the earliest future-dated post becomes live, so the caller can look again then."""
    corrected_posts: tuple[str, ...] = ()
    retracted_posts: tuple[str, ...] = ()
    revisions: int = 0
    """Delivered messages to edit or delete because their post changed or was retracted."""


async def queue_new_posts(
    store: Store,
    library: PostLibrary,
    *,
    now: datetime,
    max_age: timedelta,
    edit_window: timedelta = timedelta(hours=48),
    priority: int = 0,
) -> QueueReport:
    """Record every live post not seen before and queue deliveries for the unarchived ones.

    A post already seen whose card changed is a correction: the messages delivered within
    `edit_window` are edited. One that was retracted or unpublished is withdrawn: what is still
    queued is cancelled and what was delivered is deleted (or marked retracted when too old).
    """
    seen = await store.seen_posts()
    first_start = await store.get_setting(ARCHIVE_TAKEN) is None
    found: list[NewPost] = []
    changed: list[Post] = []
    next_release: datetime | None = None
    for post in library.posts:
        if post.id in seen:
            if seen[post.id] != post.card_digest:
                changed.append(post)
            continue
        if post.published and not post.retracted and post.date > now:
            next_release = post.date if next_release is None else min(next_release, post.date)
            continue
        if not post.is_live(now):
            continue
        archived = first_start or post.date < now - max_age
        found.append(_new_post(post, archived=archived, priority=priority))
    deliveries = await store.add_posts(found)
    corrected, retracted, revisions = await _revise(store, changed, now, edit_window)
    if first_start:
        await store.set_setting(ARCHIVE_TAKEN, now.isoformat())
        if found:
            log.info("first start: archived %d existing posts without sending", len(found))
    report = QueueReport(
        queued_posts=tuple(p.id for p in found if not p.archived),
        archived_posts=tuple(p.id for p in found if p.archived),
        deliveries=deliveries,
        next_release=next_release,
        corrected_posts=corrected,
        retracted_posts=retracted,
        revisions=revisions,
    )
    for post_id in report.queued_posts:
        log.info("new post queued post=%s", post_id)
    if report.archived_posts and not first_start:
        log.info("archived %d posts older than the maximum age", len(report.archived_posts))
    return report


async def _revise(
    store: Store, changed: list[Post], now: datetime, edit_window: timedelta
) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """Ask for the delivered messages of changed posts to be corrected or withdrawn."""
    corrected: list[str] = []
    retracted: list[str] = []
    revisions = 0
    for post in changed:
        if post.retracted or not post.published:
            delete_since = (now - timedelta(seconds=DELETE_WINDOW_SECONDS)).timestamp()
            count = await store.request_retraction(post.id, delete_since=delete_since)
            retracted.append(post.id)
            log.info("post retracted post=%s messages=%d", post.id, count)
        else:
            count = await store.request_updates(post.id, sent_since=(now - edit_window).timestamp())
            corrected.append(post.id)
            log.info("post corrected post=%s messages=%d", post.id, count)
        revisions += count
    if changed:
        await store.update_digests((post.id, post.card_digest) for post in changed)
    return tuple(corrected), tuple(retracted), revisions


def _new_post(post: Post, *, archived: bool, priority: int) -> NewPost:
    return NewPost(
        id=post.id,
        digest=post.card_digest,
        categories=tuple(c.key for c in post.categories),
        archived=archived,
        priority=priority,
        language=primary_language(post.language),
    )
