"""Uploaded images: the `file_id` Telegram gave each one is remembered, replaced and forgotten."""

from __future__ import annotations

from bot.store import Store


async def test_image_file_ids_are_remembered(store: Store) -> None:
    assert await store.image_file_id("https://img/a.jpg") is None
    await store.remember_image("https://img/a.jpg", "FILE1")
    await store.remember_image("https://img/a.jpg", "FILE2")
    assert await store.image_file_id("https://img/a.jpg") == "FILE2"
    await store.forget_image("https://img/a.jpg")
    assert await store.image_file_id("https://img/a.jpg") is None
