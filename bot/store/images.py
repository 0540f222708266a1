"""The `file_id` Telegram gave each uploaded image, so an image is uploaded once, then reused."""

from __future__ import annotations

import time

from bot.store.db import Database


class ImageQueries:
    """The store's queries about uploaded images."""

    _db: Database

    async def image_file_id(self, url: str) -> str | None:
        """The Telegram `file_id` of an image already uploaded from `url`."""
        value = await self._db.scalar("SELECT file_id FROM images WHERE url = ?", (url,))
        return None if value is None else str(value)

    async def remember_image(self, url: str, file_id: str) -> None:
        """Remember the `file_id` Telegram gave an image, to send it again without uploading."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO images (url, file_id, uploaded_at) VALUES (?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET file_id = excluded.file_id, "
                "uploaded_at = excluded.uploaded_at",
                (url, file_id, time.time()),
            )

    async def forget_image(self, url: str) -> None:
        """Drop a `file_id` Telegram no longer accepts."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM images WHERE url = ?", (url,))
