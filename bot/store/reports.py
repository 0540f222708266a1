"""Editors' live reports of a broadcast, and the figures they show, read from the ledger.

A report is the message an editor confirmed a breaking item or a push with: newsbot keeps it up
to date with that broadcast's progress. The report records where that message is (chat, message
id) and which deliveries it counts: the post's, queued from `first_delivery` to
`last_delivery`, so a later push of the same post is a report of its own. Nothing about the
progress is kept in memory: every figure is read from `deliveries` when it is shown, which is
why a restart loses no report and the final figures are the ledger's own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.store.db import Database, Row
from bot.store.deliveries import stop_pending
from bot.store.model import Status

STOPPED = "stopped by an editor"
"""The `last_error` of a delivery an editor stopped (its status is `cancelled`)."""
#: The `last_error` of a delivery waiting because Telegram asked it to (flood control).
_FLOOD = "RetryAfter%"
_SELECT_REPORTS = (
    "SELECT id, post_id, kind, chat_id, message_id, language, first_delivery, last_delivery, "
    "started_at, stopped_at, stopped_by, finished_at FROM reports"
)


@dataclass(frozen=True, slots=True)
class Report:
    """A live report: where its message is, and which deliveries it counts."""

    id: int
    post_id: str
    kind: str
    """What the editor confirmed: "breaking" or "push"."""
    chat_id: int
    message_id: int
    language: str
    """The editor's language, for the report's texts."""
    first_delivery: int
    last_delivery: int
    started_at: float
    stopped_at: float | None = None
    stopped_by: int | None = None
    finished_at: float | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """Where a broadcast's deliveries stand, counted in one query."""

    total: int = 0
    sent: int = 0
    """Accepted by Telegram (deleted since, by a retraction, included)."""
    pending: int = 0
    """Not sent yet: due, waiting on flood control, or retrying after an error."""
    flood: int = 0
    """Pending and waiting for the time Telegram asked (flood control)."""
    retrying: int = 0
    """Pending and waiting to try again after an error."""
    stopped: int = 0
    """Stopped by an editor, never to be sent."""
    not_delivered: Mapping[str, int] = field(default_factory=dict)
    """Given up, or cancelled (chat gone, post withdrawn), by reason."""
    first_sent: float | None = None
    last_sent: float | None = None
    recent: int = 0
    """Sent since the `since` the figures were asked with (for the rate)."""

    @property
    def failed(self) -> int:
        """Deliveries that will not reach their chat, stopped ones aside."""
        return sum(self.not_delivered.values())


class ReportQueries:
    """The store's queries about live reports and the figures of a broadcast."""

    _db: Database

    async def last_delivery_id(self) -> int:
        """The newest delivery's id (0 before the first): a report counts the ones after."""
        value = await self._db.scalar("SELECT MAX(id) FROM deliveries")
        return int(str(value or 0))

    async def open_report(
        self,
        post_id: str,
        kind: str,
        *,
        chat_id: int,
        message_id: int,
        language: str,
        after: int,
        now: float | None = None,
    ) -> Report | None:
        """Start a report of the post's deliveries queued after delivery `after`.

        None when none was queued. One message reports one broadcast: opening a report for
        the same message again returns the first.
        """
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            row = await tx.row(
                "SELECT MIN(id), MAX(id) FROM deliveries WHERE post_id = ? AND id > ?",
                (post_id, after),
            )
            if row is None or row[0] is None:
                return None
            await tx.execute(
                "INSERT INTO reports (post_id, kind, chat_id, message_id, language, "
                "first_delivery, last_delivery, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chat_id, message_id) DO NOTHING",
                (post_id, kind, chat_id, message_id, language, int(row[0]), int(row[1]), now),
            )
            found = await tx.row(
                _SELECT_REPORTS + " WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )
        return None if found is None else _report(found)

    async def report(self, report_id: int) -> Report | None:
        """The report with this id, if there is one."""
        row = await self._db.row(_SELECT_REPORTS + " WHERE id = ?", (report_id,))
        return None if row is None else _report(row)

    async def running_reports(self) -> list[Report]:
        """Reports whose broadcast has not finished, oldest first."""
        rows = await self._db.rows(_SELECT_REPORTS + " WHERE finished_at IS NULL ORDER BY id")
        return [_report(row) for row in rows]

    async def finish_report(self, report_id: int, *, now: float | None = None) -> None:
        """The broadcast is over and its report shows the final figures: edit it no more."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE reports SET finished_at = ? WHERE id = ? AND finished_at IS NULL",
                (time.time() if now is None else now, report_id),
            )

    async def stop_report(
        self, report_id: int, *, editor: int, now: float | None = None
    ) -> int | None:
        """Stop what the report's broadcast has not sent yet; the sent stay sent.

        Returns deliveries stopped, or None when the broadcast was already over or stopped.
        One transaction: the deliveries and the report are stopped together or not at all.
        """
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            row = await tx.row(
                "SELECT post_id, first_delivery, last_delivery FROM reports "
                "WHERE id = ? AND finished_at IS NULL AND stopped_at IS NULL",
                (report_id,),
            )
            if row is None:
                return None
            stopped = await stop_pending(
                tx,
                str(row[0]),
                first=int(row[1]),
                last=int(row[2]),
                reason=STOPPED,
                now=now,
            )
            await tx.execute(
                "UPDATE reports SET stopped_at = ?, stopped_by = ? WHERE id = ?",
                (now, editor, report_id),
            )
        return stopped

    async def figures(
        self,
        post_id: str,
        *,
        first: int = 0,
        last: int = 1 << 62,
        now: float | None = None,
        since: float = 0.0,
    ) -> Figures:
        """Where the post's deliveries from id `first` to `last` stand, in one snapshot.

        `since` starts the count of recent sends (for the rate).
        """
        now = time.time() if now is None else now
        rows = await self._db.rows(
            "SELECT status, "
            "CASE WHEN status = 'pending' AND not_before > ? THEN "
            "  CASE WHEN last_error LIKE ? THEN 'flood' ELSE 'retry' END END, "
            "CASE WHEN status IN ('failed', 'cancelled') THEN last_error END, "
            "COUNT(*), MIN(sent_at), MAX(sent_at), "
            "SUM(CASE WHEN sent_at >= ? THEN 1 ELSE 0 END) "
            "FROM deliveries WHERE post_id = ? AND id >= ? AND id <= ? "
            "GROUP BY 1, 2, 3",
            (now, _FLOOD, since, post_id, first, last),
        )
        counts = {"total": 0, "sent": 0, "pending": 0, "flood": 0, "retrying": 0, "stopped": 0}
        reasons: dict[str, int] = {}
        first_sent: float | None = None
        last_sent: float | None = None
        recent = 0
        for status, wait, reason, count, earliest, latest, fresh in rows:
            n = int(count)
            counts["total"] += n
            if status in (Status.SENT, Status.DELETED):
                counts["sent"] += n
                recent += int(fresh or 0)
                if earliest is not None:
                    first_sent = min(float(earliest), first_sent or float(earliest))
                    last_sent = max(float(latest), last_sent or float(latest))
            elif status == Status.PENDING:
                counts["pending"] += n
                if wait == "flood":
                    counts["flood"] += n
                elif wait == "retry":
                    counts["retrying"] += n
            elif status == Status.CANCELLED and reason == STOPPED:
                counts["stopped"] += n
            else:
                why = str(reason or status)
                reasons[why] = reasons.get(why, 0) + n
        return Figures(
            **counts,
            not_delivered=reasons,
            first_sent=first_sent,
            last_sent=last_sent,
            recent=recent,
        )

    async def broadcasts_running(self, *, limit: int = 10) -> list[str]:
        """The posts with deliveries still pending, the longest waiting first."""
        rows = await self._db.rows(
            "SELECT post_id FROM deliveries WHERE status = 'pending' "
            "GROUP BY post_id ORDER BY MIN(id) LIMIT ?",
            (limit,),
        )
        return [str(row[0]) for row in rows]


def _report(row: Row) -> Report:
    return Report(
        int(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),
        int(row[4]),
        str(row[5]),
        int(row[6]),
        int(row[7]),
        float(row[8]),
        None if row[9] is None else float(row[9]),
        None if row[10] is None else int(row[10]),
        None if row[11] is None else float(row[11]),
    )
