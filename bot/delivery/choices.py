"""A delivery as its chat chose it: filtered out, or sent where and how the chat wants it.

Decided in the sender's pass, before the delivery takes a turn of the pace: a post the chat's
filters keep out, or one a forum sends nowhere, is cancelled for that chat ("filtered", "no
topic"), which counts as handled, so it is never sent later. Otherwise the post's card goes
to the chat's topic for its category (`message_thread_id`), and without a sound in the chat's
quiet hours (`disable_notification`), unless it is breaking news the chat allowed to ring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.filters import WordFilter
from bot.posts import Post
from bot.quiet import silent
from bot.store import ChatChoices
from bot.topics import route


@dataclass(frozen=True, slots=True)
class Plan:
    """What becomes of one delivery: cancelled with a reason, or sent with these options."""

    cancelled: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def plan(
    choices: ChatChoices | None,
    post: Post | None,
    *,
    zone: tzinfo,
    urgent: bool,
    now: datetime | None = None,
) -> Plan:
    """The plan for a post (None: gone) to a chat that made `choices` (None: a chat that
    chose nothing)."""
    now = now or datetime.now(UTC)
    if post is None or not post.is_live(now):
        return Plan("post withdrawn")
    if choices is None:
        return Plan()
    # Breaking news reaches every subscribed chat, whatever its categories and languages:
    # word filters do not keep it out either.
    if not urgent and not WordFilter(choices.muted, choices.only).admits(post):
        return Plan("filtered")
    where = route(choices, post)
    if where.nowhere:
        return Plan("no topic")
    options: dict[str, Any] = {}
    if where.thread is not None:
        options["message_thread_id"] = where.thread
    if silent(choices, zone, now, urgent=urgent):
        options["disable_notification"] = True
    return Plan(options=options)
