"""Which posts are new, which are archived, and when future-dated ones go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.posts import PostLibrary
from bot.queue import QueueReport, queue_new_posts
from bot.store import Outcome, Revision, Status, Store
from tests.helpers import WritePost

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
MAX_AGE = timedelta(hours=48)


async def scan_and_queue(store: Store, library: PostLibrary, now: datetime = NOW) -> QueueReport:
    library.scan()
    return await queue_new_posts(store, library, now=now, max_age=MAX_AGE)


async def test_first_start_archives_the_existing_archive(
    store: Store, content: Path, write_post: WritePost
) -> None:
    write_post("a.md", date="2026-11-25T11:00:00Z")
    await store.subscribe(1, "private", None)
    library = PostLibrary(content)
    first = await scan_and_queue(store, library)
    assert first.archived_posts == ("a",) and first.deliveries == 0

    write_post("b.md", date="2026-11-25T11:30:00Z")
    second = await scan_and_queue(store, library)
    assert second.queued_posts == ("b",) and second.deliveries == 1


async def test_first_start_with_an_empty_folder_sends_later_posts(
    store: Store, content: Path, write_post: WritePost
) -> None:
    await store.subscribe(1, "private", None)
    library = PostLibrary(content)
    await scan_and_queue(store, library)
    write_post("a.md", date="2026-11-25T11:00:00Z")
    assert (await scan_and_queue(store, library)).queued_posts == ("a",)


async def test_old_posts_found_later_are_archived_not_pushed(
    store: Store, content: Path, write_post: WritePost
) -> None:
    await store.subscribe(1, "private", None)
    library = PostLibrary(content)
    await scan_and_queue(store, library)
    write_post("old.md", date="2026-11-01T00:00:00Z")
    write_post("fresh.md", date="2026-11-24T00:00:00Z")
    report = await scan_and_queue(store, library)
    assert report.archived_posts == ("old",)
    assert report.queued_posts == ("fresh",)


async def test_future_and_unpublished_posts_wait(
    store: Store, content: Path, write_post: WritePost
) -> None:
    await store.subscribe(1, "private", None)
    library = PostLibrary(content)
    await scan_and_queue(store, library)
    write_post("later.md", date="2026-11-25T15:00:00Z")
    write_post("draft.md", published=False)
    report = await scan_and_queue(store, library)
    assert report.queued_posts == ()
    assert report.next_release == datetime(2026, 11, 25, 15, tzinfo=UTC)
    released = await scan_and_queue(store, library, NOW + timedelta(hours=4))
    assert released.queued_posts == ("later",)
    assert await store.delivery_counts() == {"pending": 1}


async def test_a_change_outside_the_card_is_not_a_correction(
    store: Store, content: Path, write_post: WritePost
) -> None:
    await store.subscribe(1, "private", None)
    library = PostLibrary(content)
    await scan_and_queue(store, library)
    write_post("a.md", "First paragraph.", date="2026-11-25T11:00:00Z")
    await scan_and_queue(store, library)
    write_post("a.md", "First paragraph.\n\nA later paragraph added.", date="2026-11-25T11:00:00Z")
    report = await scan_and_queue(store, library)
    assert report.queued_posts == () and report.corrected_posts == ()
    assert await store.delivery_counts() == {"pending": 1}


async def test_corrections_and_retractions_reach_delivered_messages(
    store: Store, content: Path, write_post: WritePost
) -> None:
    for chat in (1, 2):
        await store.subscribe(chat, "private", None)
    library = PostLibrary(content)
    await scan_and_queue(store, library)
    write_post("a.md", "First.", title="Hedline", date="2026-11-25T11:00:00Z")
    await scan_and_queue(store, library)
    first, _ = await store.due(now=1e12)
    await store.record([Outcome(first.id, Status.SENT, message_id=7, sent_as="text")])

    write_post("a.md", "First.", title="Headline", date="2026-11-25T11:00:00Z")
    report = await scan_and_queue(store, library)
    assert report.corrected_posts == ("a",) and report.revisions == 1
    [revision] = await store.due_revisions(now=1e12)
    assert (revision.chat_id, revision.message_id, revision.revision) == (1, 7, Revision.UPDATE)
    assert (await store.seen_posts())["a"] == library.get("a").card_digest  # type: ignore[union-attr]

    write_post("a.md", "First.", title="Headline", retracted=True, date="2026-11-25T11:00:00Z")
    report = await scan_and_queue(store, library)
    assert report.retracted_posts == ("a",)
    [revision] = await store.due_revisions(now=1e12)
    assert revision.revision == Revision.DELETE  # sent within Telegram's 48 hours
    assert await store.due(now=1e12) == []  # chat 2's copy will not go out now
