"""Digests: a chat's posts gathered into one message, hourly, daily at a time, or twice a day.

A chat chooses `instant` (every post as it comes, the default), `hourly` (at every full hour),
`daily HH:MM`, or `twice` (at `TWICE_DAILY`), in its own time zone. Its posts wait in the queue
until a slot comes that is later than both its last digest and the oldest post waiting, so a
post is never held longer than one period and a digest never comes early.

A digest is one message: each post's headline linked to the article, with its category, newest
first; it is cut into more messages only past Telegram's 4,096 characters, and only between
two posts. Everything here is pure (times in, decisions and text out); sending it and marking
its posts delivered is `bot.delivery.digests`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.posts import Post
from bot.quiet import clock_time
from bot.render import TEXT_LIMIT, utf16_len

INSTANT = "instant"
HOURLY = "hourly"
TWICE = "twice"
DAILY = "daily"
#: The times of a twice-daily digest: morning and evening.
TWICE_DAILY = ("07:00", "19:00")
#: A daily digest's time when the reader names none.
DAILY_DEFAULT = "08:00"
#: Words that mean "every post as it comes".
INSTANT_WORDS = frozenset({"instant", "off", "now", "none"})


def parse_mode(words: Sequence[str]) -> str | None:
    """A digest mode from a reader's words: `instant`, `hourly`, `daily 07:30`, `twice daily`;
    None for words that name none."""
    if not words:
        return None
    first = words[0].casefold()
    rest = [w.casefold() for w in words[1:]]
    if first in INSTANT_WORDS:
        return INSTANT
    if first == HOURLY:
        return HOURLY
    if first == TWICE or first == "twice-daily":
        return TWICE if not rest or rest == [DAILY] else None
    if first == DAILY:
        if not rest:
            return f"{DAILY} {DAILY_DEFAULT}"
        at = clock_time(rest[0]) if len(rest) == 1 else None
        return f"{DAILY} {at}" if at is not None else None
    return None


def slot_times(mode: str) -> tuple[str, ...] | None:
    """The local times of day a mode's digests go; None for hourly and instant."""
    if mode == TWICE:
        return TWICE_DAILY
    if mode.startswith(f"{DAILY} "):
        return (mode.split(" ", 1)[1],)
    return None


def latest_slot(mode: str, zone: tzinfo, now: datetime) -> datetime | None:
    """The most recent digest time at or before `now`; None for `instant`."""
    local = now.astimezone(zone)
    if mode == HOURLY:
        return local.replace(minute=0, second=0, microsecond=0)
    times = slot_times(mode)
    if times is None:
        return None
    best: datetime | None = None
    for day in (local, local - timedelta(days=1)):
        for hhmm in times:
            hours, minutes = (int(part) for part in hhmm.split(":"))
            slot = day.replace(hour=hours, minute=minutes, second=0, microsecond=0)
            if slot <= local and (best is None or slot > best):
                best = slot
    return best


def next_slot(mode: str, zone: tzinfo, now: datetime) -> datetime | None:
    """The next digest time after `now`; None for `instant`."""
    local = now.astimezone(zone)
    if mode == HOURLY:
        return local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    times = slot_times(mode)
    if times is None:
        return None
    candidates = [
        day.replace(hour=int(t[:2]), minute=int(t[3:]), second=0, microsecond=0)
        for day in (local, local + timedelta(days=1))
        for t in times
    ]
    return min(c for c in candidates if c > local)


def is_due(mode: str, zone: tzinfo, now: datetime, *, since: float) -> bool:
    """Whether a digest is due at `now` for posts waiting since `since` (Unix seconds: the
    later of the chat's last digest and its oldest post waiting)."""
    slot = latest_slot(mode, zone, now)
    return slot is not None and slot.timestamp() > since


@dataclass(frozen=True, slots=True)
class Piece:
    """One message of a digest: its HTML text and the posts it carries."""

    text: str
    post_ids: tuple[str, ...]


def digest_pieces(heading: str, posts: Sequence[Post], limit: int = TEXT_LIMIT) -> list[Piece]:
    """The digest of `posts` (newest first) as messages of at most `limit` characters, cut
    only between posts. `heading` (plain text) opens the first."""
    ordered = sorted(posts, key=lambda p: p.date, reverse=True)
    pieces: list[Piece] = []
    lines: list[str] = [f"<b>{html.escape(heading)}</b>"]
    visible = utf16_len(heading)
    ids: list[str] = []
    for post in ordered:
        line, length = _line(post, limit - 2)
        if ids and visible + 2 + length > limit:
            pieces.append(Piece("\n\n".join(lines), tuple(ids)))
            lines, visible, ids = [], -2, []
        lines.append(line)
        visible += 2 + length
        ids.append(post.id)
    if ids:
        pieces.append(Piece("\n\n".join(lines), tuple(ids)))
    return pieces


def _line(post: Post, budget: int) -> tuple[str, int]:
    """One post's line: "• Headline · CATEGORY", the headline linked; HTML and visible length."""
    category = post.category.name if post.category is not None else ""
    tail = f" · {category}" if category else ""
    title = post.title
    if utf16_len("• " + title + tail) > budget:  # never in practice: headlines are short
        title = title[: max(budget // 2 - len(tail), 1)] + "…"
    shown = html.escape(title)
    if post.url is not None:
        shown = f'<a href="{html.escape(post.url, quote=True)}">{shown}</a>'
    return f"• {shown}{html.escape(tail)}", utf16_len("• " + title + tail)
