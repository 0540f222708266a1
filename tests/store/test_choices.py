"""Readers' choices in the store, on both engines: forum topic routes and a topic that is gone."""

from __future__ import annotations

from bot.store import Store


async def test_a_gone_topic_sends_its_categories_to_general_once(store: Store) -> None:
    await store.subscribe(-1005, "supergroup", "Forum")
    await store.route(-1005, ["world", "business"], 7)
    await store.route(-1005, ["sport"], 8)

    assert await store.drop_topic(-1005, 7) == ["business", "world"]
    assert await store.drop_topic(-1005, 7) == []  # another delivery already told the admins
    assert dict((await store.choices(-1005)).routes) == {"world": 0, "business": 0, "sport": 8}
