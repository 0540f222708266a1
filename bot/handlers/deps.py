"""The running bot's parts every handler works with, passed as one object."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.delivery import Sender
from bot.editors import Refresh
from bot.posts import PostLibrary
from bot.readers import ReaderDesk
from bot.settings import Settings
from bot.store import Store


@dataclass(frozen=True, slots=True)
class Deps:
    """What the handlers are given by the running bot (`bot.app.Newsbot`)."""

    store: Store
    library: PostLibrary
    sender: Sender
    """Sends a post's card now, as the broadcast would (`/latest`, previews); `wake()` after
    queueing."""
    settings: Settings
    publishing: asyncio.Lock
    """Held while the folder is scanned and queued, or an editor publishes into it."""
    refresh: Refresh

    def reader_desk(self) -> ReaderDesk:
        """The readers' core over this bot's store and library; a subscription wakes the
        sender, since it may queue the backlog a new reader is owed."""
        return ReaderDesk(
            self.store,
            self.library,
            backlog=self.settings.subscribe_backlog,
            wake=self.sender.wake,
        )
