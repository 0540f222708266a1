"""Chats and subscriptions: joining, leaving, moving, exact choices, languages, channels."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.store import ALL, Joined, NewPost, Status, Store
from tests.helpers import open_store


async def test_subscribe_new_again_and_after_deactivation(store: Store) -> None:
    assert await store.subscribe(1, "private", "Ann") is Joined.NEW
    assert await store.subscribe(1, "private", "Ann") is Joined.ALREADY
    await store.deactivate(1, "Forbidden: bot was blocked by the user")
    chat = await store.chat(1)
    assert chat is not None and not chat.active and chat.categories == {ALL}
    assert await store.subscribe(1, "private", "Ann") is Joined.REACTIVATED
    assert 1 not in store.stopped_chats


async def test_chat_migration_moves_subscriptions_and_deliveries(store: Store) -> None:
    await store.subscribe(-100, "group", "Team", ["world"])
    await store.add_posts([NewPost("A", "a", ("world",))])
    await store.migrate_chat(-100, -1001)
    assert await store.chat(-100) is None
    moved = await store.chat(-1001)
    assert moved is not None and moved.type == "supergroup" and moved.categories == {"world"}
    [delivery] = await store.due(now=1e12)
    assert delivery.chat_id == -1001


async def test_chat_migration_keeps_the_groups_choices(store: Store) -> None:
    await store.subscribe(-100, "group", "Team", ["world"])
    await store.set_choices(-100, {"mode": "hourly", "time_zone": "Asia/Bangkok"})
    await store.migrate_chat(-100, -1001)
    moved = await store.choices(-1001)
    assert (moved.mode, moved.time_zone) == ("hourly", "Asia/Bangkok")


async def test_chat_migration_merges_into_a_known_chat(store: Store) -> None:
    await store.subscribe(-100, "group", "Team", ["world"])
    await store.subscribe(-1001, "supergroup", "Team", ["sport"])
    await store.add_posts([NewPost("A", "a", ("world", "sport"))])
    await store.migrate_chat(-100, -1001)
    merged = await store.chat(-1001)
    assert merged is not None and merged.categories == {"world", "sport"}
    assert [d.chat_id for d in await store.due(now=1e12)] == [-1001]


async def test_unsubscribing_cancels_what_was_queued(store: Store) -> None:
    await store.subscribe(1, "private", None)
    await store.add_posts([NewPost("A", "a")])
    assert await store.unsubscribe_all(1) is True
    assert await store.unsubscribe_all(1) is False
    assert await store.due(now=1e12) == []
    assert await store.delivery_counts() == {"cancelled": 1}
    assert 1 in store.stopped_chats


async def test_hostile_values_are_data_not_sql(store: Store) -> None:
    title = "Robert'); DROP TABLE chats;--"
    await store.subscribe(5, "group", title, ["x' OR '1'='1"])
    chat = await store.chat(5)
    assert chat is not None and chat.title == title and chat.categories == {"x' OR '1'='1"}
    await store.add_posts([NewPost("A", "a", ("world",))])
    assert await store.due(now=1e12) == []


async def test_set_subscriptions_makes_them_exactly_so(store: Store) -> None:
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


async def test_languages_decide_who_gets_a_post(store: Store) -> None:
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


async def test_channels_are_listed_with_their_categories(store: Store) -> None:
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


# --- the chats a sender must skip agree with what was committed ----------------------------------


def refuse_changes(path: Path, table: str) -> None:
    """From now on every change to a row of `table` fails, as a full disk would make it."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE UPDATE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )


STOPS: dict[str, Callable[[Store], Awaitable[object]]] = {
    "unsubscribe": lambda store: store.unsubscribe_all(1),
    "deactivate": lambda store: store.deactivate(1, "Forbidden: bot was blocked by the user"),
    "choose nothing": lambda store: store.set_subscriptions(1, "private", None, []),
}


@pytest.mark.parametrize("stop", STOPS.values(), ids=STOPS.keys())
async def test_a_stop_that_rolls_back_leaves_the_chat_receiving(
    tmp_path: Path, stop: Callable[[Store], Awaitable[object]]
) -> None:
    path = tmp_path / "newsbot.sqlite3"
    async with open_store(path) as store:
        await store.subscribe(1, "private", None)
        await store.add_posts([NewPost("A", "a")])
        refuse_changes(path, "deliveries")  # the last statement of every stop fails
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            await stop(store)
        chat = await store.chat(1)
        assert chat is not None and chat.active and chat.categories == {ALL}
        assert await store.delivery_counts() == {Status.PENDING: 1}
        assert 1 not in store.stopped_chats  # the sender goes on delivering to it


RESTARTS: dict[str, Callable[[Store], Awaitable[object]]] = {
    "subscribe": lambda store: store.subscribe(1, "private", None),
    "choose categories": lambda store: store.set_subscriptions(1, "private", None, ["world"]),
}


@pytest.mark.parametrize("restart", RESTARTS.values(), ids=RESTARTS.keys())
async def test_a_return_that_rolls_back_leaves_the_chat_stopped(
    tmp_path: Path, restart: Callable[[Store], Awaitable[object]]
) -> None:
    path = tmp_path / "newsbot.sqlite3"
    async with open_store(path) as store:
        await store.subscribe(1, "private", None)
        await store.unsubscribe_all(1)
        refuse_changes(path, "chats")
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            await restart(store)
        chat = await store.chat(1)
        assert chat is not None and not chat.active
        assert 1 in store.stopped_chats  # a sender holding an older page still skips it
