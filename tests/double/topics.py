"""Forum topics: supergroups with topics, createForumTopic, and the topics that go away.

A chat in `forum_chats` is a supergroup with topics (`is_forum`). The bot may create topics
there when it is in `topic_managers` (an administrator who may manage topics), else Telegram
answers "not enough rights to create a topic". A message sent with `message_thread_id` goes to
that topic and is stored with it (`is_topic_message`); a topic closed (`close_topic`) answers
"TOPIC_CLOSED" and a deleted one (`delete_topic`) "message thread not found", as Telegram does.
Readers write inside a topic with `send_text(..., thread_id=...)`.
"""

from __future__ import annotations

from tests.double.chats import ChatsMixin
from tests.double.wire import Call, JSONDict, bad_request

#: The first topic id Telegram gives in a forum (the General topic is 1).
FIRST_TOPIC = 2


class TopicsMixin(ChatsMixin):
    """Forums and their topics; configuration attributes apply to the next request."""

    def __init__(self) -> None:
        """No forum yet."""
        super().__init__()
        self.topic_managers: set[int] = set()
        self.topics: dict[tuple[int, int], JSONDict] = {}
        """(chat, thread) -> {"name", "icon_color", "state": "open" | "closed" | "deleted"}."""
        self._next_topic: dict[int, int] = {}

    def open_topic(self, chat_id: int, name: str) -> int:
        """A topic people made in a forum; returns its message_thread_id."""
        thread = self._next_topic.get(chat_id, FIRST_TOPIC)
        self._next_topic[chat_id] = thread + 1
        self.topics[(chat_id, thread)] = {"name": name, "icon_color": 0, "state": "open"}
        return thread

    def close_topic(self, chat_id: int, thread: int) -> None:
        """An admin closes a topic: nobody but admins may post there."""
        self.topics[(chat_id, thread)]["state"] = "closed"

    def delete_topic(self, chat_id: int, thread: int) -> None:
        """An admin deletes a topic and everything in it."""
        self.topics[(chat_id, thread)]["state"] = "deleted"

    def _thread_of(self, chat_id: int, params: JSONDict) -> int | None:
        """The topic a send goes to, checked as Telegram checks it."""
        thread = params.get("message_thread_id")
        if thread is None or chat_id not in self.forum_chats:
            return None
        topic = self.topics.get((chat_id, int(thread)))
        if topic is None or topic["state"] == "deleted":
            raise bad_request("message thread not found")
        if topic["state"] == "closed":
            raise bad_request("TOPIC_CLOSED")
        return int(thread)

    async def _create_forum_topic(self, call: Call) -> JSONDict:
        chat_id = self._target_chat(call.params)
        if chat_id not in self.forum_chats:
            raise bad_request("the chat is not a forum")
        if chat_id not in self.topic_managers:
            raise bad_request("not enough rights to create a topic")
        name = str(call.params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_NAME_INVALID")
        color = int(call.params.get("icon_color") or 0x6FB9F0)
        if color not in (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F):
            raise bad_request("TOPIC_COLOR_INVALID")
        thread = self.open_topic(chat_id, name)
        self.topics[(chat_id, thread)]["icon_color"] = color
        return {"message_thread_id": thread, "name": name, "icon_color": color}
