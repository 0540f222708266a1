"""What the store reads and writes, as plain values: chats, deliveries, outcomes, new posts.

Nothing here knows SQL or Telegram; every query area and every caller speaks in these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

ALL = "*"
"""The subscription category meaning every category."""
URGENT = 100
"""Deliveries of this priority or more (breaking news) go at once, whatever a chat's digest."""
DELETE_WINDOW_SECONDS = 48 * 3600
"""Telegram lets a bot delete its messages for this long after sending them."""


class Status(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    """Sent, then deleted from the chat because the post was retracted."""


class Revision(StrEnum):
    """What is to happen to a message already delivered."""

    UPDATE = "update"
    DELETE = "delete"
    RETRACT = "retract"


class Joined(StrEnum):
    """What subscribing did to a chat."""

    NEW = "new"
    REACTIVATED = "reactivated"
    ALREADY = "already"


@dataclass(frozen=True, slots=True)
class Chat:
    """A chat newsbot knows."""

    id: int
    type: str
    title: str | None
    active: bool
    categories: frozenset[str]
    languages: frozenset[str] | None = None
    """Article languages the chat reads; None means every language."""


@dataclass(frozen=True, slots=True)
class ChatChoices:
    """How a chat wants its posts, as stored: the words are read by `bot.choices` and
    `bot.filters`; a chat that chose nothing has every default."""

    chat_id: int
    mode: str = "instant"
    """'instant', 'hourly', 'twice' or 'daily HH:MM'."""
    time_zone: str | None = None
    """A zoneinfo name; None means the newsroom's default."""
    quiet: tuple[str, str] | None = None
    """Quiet hours as ("HH:MM", "HH:MM"), from and to; None when there are none."""
    breaking_in_quiet: bool = False
    """Whether breaking news notifies during quiet hours."""
    muted: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    general: bool = True
    """Whether a forum's categories without a topic go to General (else nowhere)."""
    last_digest: float | None = None
    texts_language: str | None = None
    """The language of whoever chose last: what newsbot writes itself (a digest) is in it."""
    routes: Mapping[str, int] = field(default_factory=dict)
    """A forum's category key -> topic (message_thread_id)."""


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One pending delivery of a chat on a digest."""

    delivery_id: int
    post_id: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending post for one chat."""

    id: int
    post_id: str
    chat_id: int
    chat_type: str
    priority: int
    attempts: int
    created_at: float | None = None
    """When it was queued (Unix seconds): for a broadcast, when the post was first seen."""
    not_before: float = 0.0
    """When it may go (Unix seconds): after flood control or a fault, later than now."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, written back in batches by `Store.record`."""

    delivery_id: int
    status: Status
    message_id: int | None = None
    error: str | None = None
    not_before: float = 0.0
    counts_as_attempt: bool = True
    sent_as: str | None = None
    """For a sent message: "photo" or "text"."""
    sent_image: str | None = None
    """For a sent photo: the image's address (to notice when a correction changes it)."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A delivered message with a revision waiting for it."""

    delivery_id: int
    post_id: str
    chat_id: int
    chat_type: str
    message_id: int
    sent_as: str
    sent_image: str | None
    revision: Revision
    attempts: int
    copies: tuple[int, ...] = ()
    """Further messages of the same delivery in the chat (a timed-out request that was carried
    out, then sent again): a revision reaches them too."""


@dataclass(frozen=True, slots=True)
class RevisionOutcome:
    """The result of one attempt at a revision."""

    delivery_id: int
    done: bool
    deleted: bool = False
    error: str | None = None
    not_before: float = 0.0
    image: str | None = None
    """The lead image the message shows now, when the revision replaced it."""


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post found for the first time: archived, or queued for its categories."""

    id: str
    digest: str
    categories: tuple[str, ...] = ()
    archived: bool = False
    priority: int = 0
    language: str | None = None
    """The article's language code; a post without one goes to every chat whatever it reads."""
    everyone: bool = False
    """Breaking news: every subscribed chat, whatever its categories and languages (a chat that
    chose no category at all asked for nothing, and gets nothing)."""


@dataclass(frozen=True, slots=True)
class Stats:
    """The figures editors see with /stats."""

    chats: dict[str, tuple[int, int]]
    """Per chat type: (active, inactive)."""
    subscribers: dict[str, int]
    """Active chats per subscribed category (ALL for everything)."""
    posts_seen: int
    deliveries: dict[str, int]
    """Deliveries queued in the period, by status."""
    queue_depth: int
    last_errors: list[tuple[str, int, str]]
    """The newest failures: (post, chat, error)."""
