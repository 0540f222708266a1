"""Writing down what became of each delivery and revision, in batches, losing none.

Guarantees, and where they come from:
- An outcome is noted the moment Telegram answers and written by one writer task; while messages
  are in flight it gathers outcomes for up to `OUTCOME_GATHER_SECONDS`, so under load one
  transaction carries many (one commit per message took a fifth of the sender's CPU at 1,000/s).
- A delivery answered but not yet written is still "pending" in the database: until its outcome
  is committed it counts as `unrecorded`, and the sender does not start it a second time.
- A stop never cuts a batch off before its commit (the write is shielded): a lost batch would be
  sent again after the restart.
- A batch the database refuses (disk full, locked) is kept and tried again every second; after
  `UNWRITTEN_ALARM_SECONDS` `trouble()` says so, for `/healthz`.
- A batch refused because this instance was deposed (`Deposed`: another took over) is dropped,
  not retried: its deliveries are still pending for the new active instance, which sends them
  (a message this one had sent is then sent twice, as after a kill -9), and the sender stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Set

from bot.store import Deposed, Outcome, RevisionOutcome, Store

log = logging.getLogger(__name__)

#: Outcomes the database has refused for this long make `/healthz` report the sender unwell.
UNWRITTEN_ALARM_SECONDS = 30.0
#: Longest the outcome writer waits, while messages are in flight, to gather the next batch.
OUTCOME_GATHER_SECONDS = 0.02

Key = tuple[str, int]
"""What is in flight or unrecorded: ("delivery", id) or ("revision", id)."""


class OutcomeWriter:
    """Outcomes noted by the sender, written to the database in batches by `run()`."""

    def __init__(
        self,
        store: Store,
        *,
        in_flight: Callable[[], bool],
        deposed: Callable[[], None] = lambda: None,
    ) -> None:
        """`in_flight` says whether messages are still awaiting Telegram's answer: while they
        are, more outcomes are on their way and worth gathering into the same transaction;
        `deposed` is called when the database refused a batch because another instance took
        over."""
        self._store = store
        self._deposed = deposed
        self._in_flight = in_flight
        self._outcomes: list[Outcome] = []
        self._revision_outcomes: list[RevisionOutcome] = []
        self._copies: list[tuple[int, int]] = []
        self._unrecorded: set[Key] = set()
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()
        self._writing = 0
        self._unwritten_since: float | None = None

    @property
    def pending(self) -> int:
        """Outcomes noted but not yet committed to the database."""
        return (
            len(self._outcomes) + len(self._revision_outcomes) + len(self._copies) + self._writing
        )

    @property
    def unrecorded(self) -> Set[Key]:
        """Deliveries and revisions answered whose outcome is not committed yet (a live view)."""
        return self._unrecorded

    def note(self, outcome: Outcome) -> None:
        """Keep a delivery's outcome for the next batch."""
        self._unrecorded.add(("delivery", outcome.delivery_id))
        self._outcomes.append(outcome)
        self._ready.set()

    def note_revision(self, outcome: RevisionOutcome) -> None:
        """Keep a revision's outcome for the next batch."""
        self._unrecorded.add(("revision", outcome.delivery_id))
        self._revision_outcomes.append(outcome)
        self._ready.set()

    def note_copy(self, delivery_id: int, message_id: int) -> None:
        """Keep one more message id of a delivery (a late answer) for the next batch."""
        self._copies.append((delivery_id, message_id))
        self._ready.set()

    def drained(self) -> None:
        """The last message in flight was answered: write what was gathered without waiting."""
        self._drained.set()

    def trouble(self) -> str | None:
        """Why outcomes are not being written, once that has lasted a while; else None."""
        since = self._unwritten_since
        if since is not None and time.monotonic() - since > UNWRITTEN_ALARM_SECONDS:
            return f"outcomes unwritten for {time.monotonic() - since:.0f} s"
        return None

    async def run(self) -> None:
        """Write outcomes as they come, until cancelled; under load a batch carries many."""
        if self.pending:
            self._ready.set()  # kept from a run that could not write them (a database gone)
        while True:
            await self._ready.wait()
            self._ready.clear()
            # Shielded: a stop cancels this task, and a batch cut off before its commit would
            # be lost, its messages sent again after the restart.
            try:
                await asyncio.shield(self.flush())
            except Exception:
                # The database refused (disk full, locked): keep the outcomes and try again;
                # until then the deliveries stay marked busy, so nothing is sent twice.
                log.exception("could not record outcomes; retrying")
                if self._unwritten_since is None:
                    self._unwritten_since = time.monotonic()
                await asyncio.sleep(1.0)
                self._ready.set()
                continue
            self._unwritten_since = None
            if self._in_flight():
                # More outcomes are on their way: gather them, but write at once when the last
                # message in flight is answered. Without this most transactions carried one or
                # two outcomes, and their commits took a fifth of the sender's CPU at 1,000/s.
                # (`asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` swallows a stop's
                # cancellation that arrives as the last message is answered, and the stop hangs.)
                self._drained.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(OUTCOME_GATHER_SECONDS):
                        await self._drained.wait()

    async def flush(self) -> None:
        """Write the outcomes noted so far; what could not be written is kept for next time."""
        batch, self._outcomes = self._outcomes, []
        revisions, self._revision_outcomes = self._revision_outcomes, []
        copies, self._copies = self._copies, []
        count = len(batch) + len(revisions) + len(copies)
        if not count:
            return
        self._writing += count
        try:
            if batch:
                await self._store.record(batch)
                self._unrecorded.difference_update(("delivery", o.delivery_id) for o in batch)
                batch = []
            await self._store.record_revisions(revisions)
            self._unrecorded.difference_update(("revision", o.delivery_id) for o in revisions)
            revisions = []
            await self._store.record_copies(copies)
            copies = []
        except Deposed:
            log.warning("outcomes not recorded: another instance took over count=%d", count)
            self._unrecorded.difference_update(("delivery", o.delivery_id) for o in batch)
            self._unrecorded.difference_update(("revision", o.delivery_id) for o in revisions)
            batch, revisions, copies = [], [], []
            self._deposed()
        finally:
            self._writing -= count
            self._outcomes[:0] = batch
            self._revision_outcomes[:0] = revisions
            self._copies[:0] = copies
