"""Values newsbot keeps about its own state, such as whether the archive was taken."""

from __future__ import annotations

from bot.store.db import Database


class StateQueries:
    """The store's queries about newsbot's own state."""

    _db: Database

    async def get_setting(self, key: str) -> str | None:
        """A value newsbot keeps about its own state, such as whether the archive was taken."""
        value = await self._db.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set_setting(self, key: str, value: str) -> None:
        """Store a value of newsbot's own state."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
