"""Forum topics: which topic of a forum supergroup each post goes to.

A group admin routes categories to topics: `/here world business` sent inside a topic, or
`/topics create`, which has newsbot create one topic per subscribed category (named after it,
with an icon colour of its own). A post goes to the topic of its first routed category; a post
of no routed category goes to the General topic, or nowhere when the admins said so
(`/topics general off`). A topic that is closed or deleted is noticed from Telegram's answer:
its categories are routed to General (topic 0 here), the admins are told once, and the
delivery goes again, to General, so nothing is lost. Everything here is pure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.posts import Post
from bot.store import ALL, ChatChoices

#: The route of a category sent to the General topic (a topic that was closed or deleted).
GENERAL = 0
#: The colours Telegram allows for a topic's icon (RGB), as createForumTopic takes them.
ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
#: Telegram's limit on a topic's name.
TOPIC_NAME_LIMIT = 128


@dataclass(frozen=True, slots=True)
class Route:
    """Where a post goes in a chat: a topic, General (thread None), or nowhere."""

    thread: int | None = None
    nowhere: bool = False


def route(choices: ChatChoices, post: Post) -> Route:
    """Where a post goes in the chat, by its categories and the chat's routes."""
    if not choices.routes:
        return Route()
    for category in post.categories:
        thread = choices.routes.get(category.key)
        if thread is not None:
            return Route(thread or None)
    thread = choices.routes.get(ALL)
    if thread is not None:
        return Route(thread or None)
    return Route() if choices.general else Route(nowhere=True)


def icon_color(key: str) -> int:
    """A topic's icon colour, the same for a category every time."""
    index = hashlib.sha256(key.encode()).digest()[0] % len(ICON_COLORS)
    return ICON_COLORS[index]


def topic_name(name: str) -> str:
    """A category's name as a topic's name, within Telegram's limit."""
    return name[:TOPIC_NAME_LIMIT]
