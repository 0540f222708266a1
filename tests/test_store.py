"""The database: migrations, subscriptions, the queue's uniqueness, chat moves, image cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import ALL, MIGRATIONS, Joined, NewPost, Outcome, Status, Store


async def open_store(tmp_path: Path) -> Store:
    return await Store.open(tmp_path / "data" / "newsbot.sqlite3")


async def test_migrations_are_recorded_and_applied_once(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    store = await open_store(tmp_path)  # opening again applies nothing twice
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    with sqlite3.connect(tmp_path / "data" / "newsbot.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        count = db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
        assert count == len(MIGRATIONS)


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


# --- readers' choices: exact subscriptions, languages, a new subscriber's backlog -----------------


async def test_a_database_of_the_first_schema_is_migrated_keeping_its_chats(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (1, 0)")
        db.execute("INSERT INTO chats (id, type, subscribed_at) VALUES (1, 'private', 0)")
    store = await Store.open(path)
    chat = await store.chat(1)
    assert chat is not None and chat.active and chat.languages is None
    await store.close()


async def test_set_subscriptions_makes_them_exactly_so(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    assert await store.set_subscriptions(1, "private", "Ann", ()) is Joined.NEW  # writes nothing
    assert await store.chat(1) is None
    assert await store.set_subscriptions(1, "private", "Ann", ["world", "sport"]) is Joined.NEW
    assert await store.set_subscriptions(1, "private", "Ann", ["sport", "business"]) is (
        Joined.ALREADY
    )
    chat = await store.chat(1)
    assert chat is not None and chat.categories == {"sport", "business"}
    await store.add_posts([NewPost("A", "a", ("sport",))])
    await store.set_subscriptions(1, "private", "Ann", [])  # "None": kept, but nothing comes
    chat = await store.chat(1)
    assert chat is not None and chat.active and chat.categories == frozenset()
    assert await store.delivery_counts() == {"cancelled": 1}
    assert 1 in store.stopped_chats
    await store.add_posts([NewPost("B", "b", ("sport",))])
    assert await store.due(now=1e12) == []
    await store.unsubscribe_all(1)
    assert await store.set_subscriptions(1, "private", "Ann", [ALL]) is Joined.REACTIVATED
    assert 1 not in store.stopped_chats
    await store.close()


async def test_languages_decide_who_gets_a_post(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.subscribe(1, "private", None)  # every language
    await store.subscribe(2, "private", None)
    await store.subscribe(3, "private", None)
    assert await store.set_languages(2, ["th"])
    assert await store.set_languages(3, ["en", "th"])
    assert not await store.set_languages(4, ["th"])  # unknown chat
    await store.add_posts([NewPost("EN", "e", language="en"), NewPost("TH", "t", language="th")])
    await store.add_posts([NewPost("ANY", "n")])  # no language: everyone
    got = sorted((d.post_id, d.chat_id) for d in await store.due(now=1e12))
    assert got == [
        ("ANY", 1), ("ANY", 2), ("ANY", 3), ("EN", 1), ("EN", 3), ("TH", 1), ("TH", 2), ("TH", 3)
    ]  # fmt: skip
    chat = await store.chat(2)
    assert chat is not None and chat.languages == {"th"}
    assert await store.set_languages(2, None)
    chat = await store.chat(2)
    assert chat is not None and chat.languages is None
    await store.close()


async def test_backlog_takes_the_newest_recorded_posts_and_never_repeats(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.add_posts([NewPost("OLD", "o", archived=True)])
    await store.add_posts([NewPost("P1", "1"), NewPost("P2", "2"), NewPost("P3", "3")])
    await store.subscribe(1, "private", None)
    newest_first = ["NEW", "P3", "OLD", "P2", "P1"]  # NEW is not recorded yet
    assert await store.queue_backlog(1, newest_first, limit=2, priority=10) == 2
    due = await store.due(now=1e12)
    # Oldest first; an archived post is not broadcast but does belong to a welcome.
    assert [(d.post_id, d.priority) for d in due] == [("OLD", 10), ("P3", 10)]
    assert await store.queue_backlog(1, newest_first, limit=2, priority=10) == 0
    assert await store.queue_backlog(1, newest_first, limit=0) == 0
    await store.unsubscribe_all(1)
    assert await store.queue_backlog(1, newest_first, limit=2) == 0  # an inactive chat
    await store.subscribe(1, "private", None)
    assert await store.queue_backlog(1, newest_first, limit=2) == 0  # cancelled stays cancelled
    assert await store.queue_backlog(2, newest_first, limit=2) == 0  # an unknown chat
    await store.close()


async def test_channels_are_listed_with_their_categories(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    await store.set_subscriptions(-1002, "channel", "Zeta", ["world"])
    await store.set_subscriptions(-1001, "channel", "Alpha", [ALL])
    await store.set_subscriptions(-1003, "channel", "Gone", [ALL])
    await store.unsubscribe_all(-1003)
    await store.set_subscriptions(5, "private", "Ann", [ALL])
    channels = await store.chats_of_type("channel")
    assert [(c.id, c.title, c.categories) for c in channels] == [
        (-1001, "Alpha", {ALL}),
        (-1002, "Zeta", {"world"}),
    ]
    await store.close()
