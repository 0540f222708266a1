"""This instance's role among several sharing one database: `active` or `standby`.

Exactly one instance is active at a time: it scans and queues, sends, applies corrections, keeps
the token's pace and (with long polling) polls for updates. The others stand by, ready to take
over; with a webhook they answer commands too. Which one is active is decided by the lease in
the database (`bot.store.lease`, where its guarantees are told); this module keeps the lease:

- active: renew it every `term / 5`; when a renewal finds that another instance took it over,
  or no renewal has committed for `HOLD_FRACTION` of the term (a database gone, a paused VM that
  woke up), step down to standby at once;
- standby: look at the lease every `term / 10`, and take it over when it is free (released by
  an orderly stop) or has not changed for a whole term.

With the default term of 5 seconds, a standby takes over at most about 6 seconds after the active
instance's last renewal, wherever that one went (kill -9, machine loss, network cut).

`changed` is set on every change of role; the running bot follows it (`bot.app`). Sending also
asks `may_send()` right before each call, so a paused instance that wakes up sends nothing even
before its next look at the lease. Nothing here knows Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from enum import StrEnum

from bot.store import Fence, LeaseState, Store

log = logging.getLogger(__name__)

TAKEN_OVER = "another instance took the lease over"


class Role(StrEnum):
    """What an instance does: everything (`active`), or stand by to take over (`standby`)."""

    ACTIVE = "active"
    STANDBY = "standby"


class Instance:
    """One run of newsbot among the instances sharing its database, and its role."""

    def __init__(self, store: Store, *, name: str, term: float) -> None:
        """`name` identifies the instance in logs and in the lease (each run adds its process
        id and a random part, so a restart is never taken for its predecessor); `term` is how
        long the lease lasts without a renewal."""
        self.name = name
        self.term = term
        self.fence = Fence(f"{name}/{os.getpid()}/{secrets.token_hex(3)}")
        self.role = Role.STANDBY
        self.changed = asyncio.Event()
        """Set whenever `role` changes; whoever follows the role clears it."""
        self.trouble: str | None = None
        """Why no instance may be active for all this one knows (for `/healthz`): it lost the
        lease for want of the database, or cannot take over an unrenewed one; None once it
        holds the lease again or sees another instance renew it."""
        self._store = store
        self._seen: LeaseState | None = None
        self._seen_since = 0.0
        self._stopping = asyncio.Event()

    @property
    def holder(self) -> str:
        """This run as the lease names it."""
        return self.fence.holder

    @property
    def epoch(self) -> int | None:
        """The lease's epoch while this instance is active."""
        return self.fence.epoch

    def may_send(self) -> bool:
        """Whether this instance may make a Bot API call for the queue right now."""
        return self.role is Role.ACTIVE and self.fence.valid

    async def tick(self) -> None:
        """One look at the lease: renew it (active), or take it over if it is due (standby)."""
        if self.role is Role.ACTIVE:
            await self._renew()
        else:
            await self._watch()

    async def run(self) -> None:
        """Keep the lease, or watch it, until `stop()`."""
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as exc:  # a database gone: the next look may find it back
                log.warning("cannot reach the lease role=%s error=%s", self.role, exc)
                self.trouble = f"cannot reach the lease: {exc}"
            if self.role is Role.ACTIVE:
                if not self.fence.valid:
                    self._step_down("its lease could not be renewed in time")
                pause = self.term / 5
            else:
                pause = self.term / 10
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), pause)

    async def stop(self) -> None:
        """Stop keeping the lease, and give it up if held, so a standby takes over at once.

        Call it after the active work has stopped: from then on a standby may begin."""
        self._stopping.set()
        epoch = self.fence.epoch
        self.fence.lose()
        if epoch is not None:
            with contextlib.suppress(Exception):  # a lease not given up expires anyway
                await self._store.release_lease(self.holder, epoch)
                log.info("lease released instance=%s epoch=%d", self.name, epoch)

    # --- the two roles ------------------------------------------------------------------------

    async def _renew(self) -> None:
        epoch = self.fence.epoch
        assert epoch is not None
        began = time.monotonic()
        try:
            # A renewal that hangs (a database cut off) must not outlast the term it protects.
            async with asyncio.timeout(max(self.fence.remaining, 0.01)):
                renewed = await self._store.renew_lease(self.holder, epoch, term=self.term)
        except TimeoutError:
            self._step_down("its lease could not be renewed in time")
            return
        if renewed:
            self.fence.renewed(epoch, began)
            self.trouble = None
        else:
            self._step_down(TAKEN_OVER)

    async def _watch(self) -> None:
        lease = await self._store.lease()
        now = time.monotonic()
        if self._seen is None or lease.mark != self._seen.mark:
            if self._seen is not None and lease.holder is not None:
                self.trouble = None  # another instance renews it: all is well
            self._seen, self._seen_since = lease, now
        if lease.holder is not None and now - self._seen_since < max(lease.term, self.term):
            return  # its holder renewed it within a term of our seeing it: alive
        began = time.monotonic()
        epoch = await self._store.take_lease(self.holder, lease, term=self.term)
        if epoch is None:
            return  # renewed or taken by another meanwhile: watch on
        self.fence.hold(epoch, term=self.term, began=began)
        self._seen = None
        self.trouble = None
        self._become(Role.ACTIVE)
        log.warning(
            "active now instance=%s epoch=%d previous=%s", self.name, epoch, lease.holder or "-"
        )

    def _step_down(self, why: str) -> None:
        epoch = self.fence.epoch
        if why != TAKEN_OVER:
            self.trouble = f"standing by: {why}"
        self.fence.lose()
        self._seen = None
        self._become(Role.STANDBY)
        log.warning("standing by instance=%s epoch=%s reason=%s", self.name, epoch, why)

    def _become(self, role: Role) -> None:
        if role is not self.role:
            self.role = role
            self.changed.set()
