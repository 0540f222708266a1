"""The database: migrations, subscriptions, the queue's uniqueness, chat moves, image cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import ALL, Joined, NewPost, Outcome, Status, Store


async def open_store(tmp_path: Path) -> Store:
    return await Store.open(tmp_path / "data" / "newsbot.sqlite3")


async def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.schema_version() == 1
    await store.close()
    store = await open_store(tmp_path)  # opening again applies nothing twice
    assert await store.schema_version() == 1
    await store.close()
    with sqlite3.connect(tmp_path / "data" / "newsbot.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 1


async def test_subscribe_new_again_and_after_deactivation(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.subscribe(1, "private", "Ann") is Joined.NEW
    assert await store.subscribe(1, "private", "Ann") is Joined.ALREADY
    await store.deactivate(1, "Forbidden: bot was blocked by the user")
    chat = await store.chat(1)
    assert chat is not None and not chat.active and chat.categories == {ALL}
    assert await store.subscribe(1, "private", "Ann") is Joined.REACTIVATED
    assert 1 not in store.stopped_chats
    await store.close()


async def test_a_post_is_queued_once_per_matching_chat(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.subscribe(1, "private", None)  # everything
    await store.subscribe(2, "private", None, ["world"])
    await store.subscribe(3, "private", None, ["business"])
    await store.subscribe(4, "private", None)
    await store.unsubscribe_all(4)
    world = NewPost("P1", "d1", ("world",))
    assert await store.add_posts([world]) == 2
    assert await store.add_posts([world]) == 0  # the same post found again queues nothing
    assert await store.add_posts([NewPost("P2", "d2", ("sport",), archived=True)]) == 0
    due = await store.due(now=1e12)
    assert sorted(d.chat_id for d in due) == [1, 2]
    assert set(await store.seen_posts()) == {"P1", "P2"}
    await store.close()


async def test_queue_order_priority_then_age_and_paging(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    for chat in (1, 2, 3):
        await store.subscribe(chat, "private", None)
    await store.add_posts([NewPost("A", "a"), NewPost("B", "b", priority=10)])
    due = await store.due(now=1e12)
    assert [(d.post_id, d.chat_id) for d in due[:3]] == [("B", 1), ("B", 2), ("B", 3)]
    page = await store.due(now=1e12, limit=2)
    rest = await store.due(now=1e12, after=(page[-1].priority, page[-1].id))
    assert [d.id for d in page + rest] == [d.id for d in due]
    await store.close()


async def test_outcomes_and_retry_times(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.subscribe(1, "private", None)
    await store.subscribe(2, "private", None)
    await store.add_posts([NewPost("A", "a")])
    first, second = await store.due(now=1e12)
    await store.record(
        [
            Outcome(first.id, Status.SENT, message_id=7),
            Outcome(second.id, Status.PENDING, error="Bad Gateway", not_before=5e11),
        ]
    )
    assert [d.id for d in await store.due(now=1e11)] == []
    [retry] = await store.due(now=1e12)
    assert retry.id == second.id and retry.attempts == 1
    assert await store.next_due_time() == 5e11
    assert await store.delivery_counts() == {"sent": 1, "pending": 1}
    await store.close()


async def test_chat_migration_moves_subscriptions_and_deliveries(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.subscribe(-100, "group", "Team", ["world"])
    await store.add_posts([NewPost("A", "a", ("world",))])
    await store.migrate_chat(-100, -1001)
    assert await store.chat(-100) is None
    moved = await store.chat(-1001)
    assert moved is not None and moved.type == "supergroup" and moved.categories == {"world"}
    [delivery] = await store.due(now=1e12)
    assert delivery.chat_id == -1001
    await store.close()


async def test_chat_migration_merges_into_a_known_chat(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.subscribe(-100, "group", "Team", ["world"])
    await store.subscribe(-1001, "supergroup", "Team", ["sport"])
    await store.add_posts([NewPost("A", "a", ("world", "sport"))])
    await store.migrate_chat(-100, -1001)
    merged = await store.chat(-1001)
    assert merged is not None and merged.categories == {"world", "sport"}
    assert [d.chat_id for d in await store.due(now=1e12)] == [-1001]
    await store.close()


async def test_unsubscribing_cancels_what_was_queued(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.subscribe(1, "private", None)
    await store.add_posts([NewPost("A", "a")])
    assert await store.unsubscribe_all(1) is True
    assert await store.unsubscribe_all(1) is False
    assert await store.due(now=1e12) == []
    assert await store.delivery_counts() == {"cancelled": 1}
    assert 1 in store.stopped_chats
    await store.close()


async def test_image_file_ids_are_remembered(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.image_file_id("https://img/a.jpg") is None
    await store.remember_image("https://img/a.jpg", "FILE1")
    await store.remember_image("https://img/a.jpg", "FILE2")
    assert await store.image_file_id("https://img/a.jpg") == "FILE2"
    await store.forget_image("https://img/a.jpg")
    assert await store.image_file_id("https://img/a.jpg") is None
    await store.close()


async def test_hostile_values_are_data_not_sql(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    title = "Robert'); DROP TABLE chats;--"
    await store.subscribe(5, "group", title, ["x' OR '1'='1"])
    chat = await store.chat(5)
    assert chat is not None and chat.title == title and chat.categories == {"x' OR '1'='1"}
    await store.add_posts([NewPost("A", "a", ("world",))])
    assert await store.due(now=1e12) == []
    await store.close()
