"""Incoming updates: what readers do, queued for the bot's long poll or webhook.

Tests play the readers: `send_text`/`send_command` (a message, with a bot_command entity for a
leading /command), `send_photo` (a photo with a caption), `edit_message` (a reader editing their
message's text or caption: an `edited_message` update), `press_button` (a callback query, only
for a button that exists on a live message), `channel_post`, or any raw update with
`add_update`. getUpdates answers like Telegram's long poll: it confirms by offset, waits
(bounded) until something arrives, honours `allowed_updates`, and a second poller ends the
first with 409 Conflict. Updates are handed out in `update_id` order and the bot handles them
in turn, which is why a test can prove that an earlier update was handled (or ignored) by
waiting for the reply to a later one.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
import time

from tests.double.html import utf16_len
from tests.double.messages import MessagesMixin
from tests.double.wire import ApiError, Call, JSONDict, bad_request

MAX_LONG_POLL = 50.0
DEFAULT_GROUP_USER_ID = 100_000  # the user behind group messages when none is given
_POLL_SLICE = 0.2  # how often a waiting long poll looks for a disconnected client
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
# Update kinds Telegram withholds unless they are asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdatesMixin(MessagesMixin):
    """Updates waiting for the bot, the long poll that hands them out, and the webhook."""

    def __init__(self) -> None:
        """No updates pending and no webhook set."""
        super().__init__()
        self.callback_answers: list[JSONDict] = []
        self.webhook: JSONDict | None = None
        """The parameters of the last setWebhook (url, secret_token, ...); None once deleted."""
        self._open_callbacks: set[str] = set()
        self._pending: list[JSONDict] = []
        self._last_update_id = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._updates_changed = asyncio.Event()

    def add_update(self, update: JSONDict) -> JSONDict:
        """Queues a raw Update dict for getUpdates; assigns ``update_id`` when missing."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._last_update_id + 1
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._pending.append(update)
        self._pending.sort(key=lambda u: int(u["update_id"]))
        self._notify_updates()
        return update

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        thread_id: int | None = None,
    ) -> JSONDict:
        """Queues a user's text message; a leading ``/cmd`` gets a bot_command entity; with
        ``thread_id``, written inside that forum topic."""
        if chat_type is not None:
            self.chat_types[chat_id] = chat_type
        kind = self.chat_type(chat_id)
        if user_id is None:
            user_id = chat_id if kind == "private" else DEFAULT_GROUP_USER_ID
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": user,
            "chat": self._chat_object(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        command = _BOT_COMMAND.match(text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        self._live[(chat_id, message["message_id"])] = message
        return self.add_update({"message": copy.deepcopy(message)})

    def send_command(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = "en",
        username: str | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        thread_id: int | None = None,
    ) -> JSONDict:
        """Like :meth:`send_text` but insists on a leading ``/command`` (``/cmd@bot`` ok)."""
        if not _BOT_COMMAND.match(text):
            raise ValueError(f"{text!r} does not start with a bot command")
        return self.send_text(
            chat_id,
            text,
            user_id=user_id,
            chat_type=chat_type,
            language_code=language_code,
            username=username,
            first_name=first_name,
            last_name=last_name,
            thread_id=thread_id,
        )

    def send_photo(
        self,
        chat_id: int,
        caption: str,
        *,
        file_id: str = "AgACUSERPHOTO",
        user_id: int | None = None,
        language_code: str | None = "en",
    ) -> JSONDict:
        """Queues a user's photo with a caption; a leading ``/cmd`` gets a caption entity."""
        update = self.send_text(chat_id, "", user_id=user_id, language_code=language_code)
        message = self._live[(chat_id, update["message"]["message_id"])]
        del message["text"]
        message["photo"] = [
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 800, "height": 600}
        ]
        message.update(_caption(caption))
        update["message"] = copy.deepcopy(message)
        return update

    def edit_message(self, chat_id: int, message_id: int, new: str) -> JSONDict:
        """Queues an ``edited_message``: a user's live message with new text (or new caption,
        for a photo), its command entities read anew, as Telegram sends an edit."""
        message = self._live.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no live message {message_id} in chat {chat_id}")
        for key in ("entities", "caption_entities"):
            message.pop(key, None)
        if "photo" in message:
            message.update(_caption(new))
        else:
            message["text"] = new
            command = _BOT_COMMAND.match(new)
            if command:
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
                ]
        message["edit_date"] = int(time.time())
        return self.add_update({"edited_message": copy.deepcopy(message)})

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        user_id: int | None = None,
        *,
        first_name: str = "Test",
        username: str | None = None,
    ) -> JSONDict:
        """Queues a callback_query for a button on a live message.

        Raises ValueError for an unknown message or data no button carries: a real user can
        only press buttons that exist.
        """
        message = self._live.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no live message {message_id} in chat {chat_id}")
        buttons = [
            button.get("callback_data")
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        if data not in buttons:
            raise ValueError(f"message {message_id} has no button with data {data!r}: {buttons}")
        if user_id is None:
            user_id = chat_id if self.chat_type(chat_id) == "private" else DEFAULT_GROUP_USER_ID
        user = self._users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
        }
        if username is not None:
            user = {**user, "username": username}
        query_id = str(next(self._ids) + 5_000_000_000)
        self._open_callbacks.add(query_id)
        query: JSONDict = {
            "id": query_id,
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": f"ci{abs(chat_id)}",
            "data": data,
        }
        return self.add_update({"callback_query": query})

    def channel_post(
        self,
        chat_id: int,
        text: str,
        *,
        title: str = "Test Channel",
        username: str | None = None,
    ) -> JSONDict:
        """Queues a channel_post update; registers ``chat_id`` as a channel."""
        self.chat_types[chat_id] = "channel"
        self.chat_titles.setdefault(chat_id, title)
        if username is not None:
            self.chat_usernames[username.lower()] = chat_id
        chat = self._chat_object(chat_id)
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        self._live[(chat_id, message["message_id"])] = message
        return self.add_update({"channel_post": copy.deepcopy(message)})

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    @property
    def polls_started(self) -> int:
        """getUpdates calls received so far, answered or still waiting.

        A test that needs a long poll to be waiting before it acts waits for this to grow.
        """
        return self._poll_generation

    async def _answer_callback_query(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(dict(call.params))
        return True

    async def _get_updates(self, call: Call) -> list[JSONDict]:
        """Long polling: confirm by offset, then wait (bounded) until updates exist."""
        params = call.params
        offset = params.get("offset")
        if isinstance(offset, int):
            if offset < 0:
                del self._pending[: max(len(self._pending) + offset, 0)]
            else:
                self._pending = [u for u in self._pending if int(u["update_id"]) >= offset]
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL)

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify_updates()  # an older poll still waiting must give way (409)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            transport = call.request.transport
            if self._closing.is_set() or transport is None or transport.is_closing():
                return []  # shutting down, or the client gave up: nobody will read this
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._pending = [u for u in self._pending if self._allowed(u)]
            if self._pending:
                return copy.deepcopy(self._pending[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            changed = self._updates_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, _POLL_SLICE))

    def _allowed(self, update: JSONDict) -> bool:
        kinds = set(update) - {"update_id"}
        if self._allowed_updates:
            return bool(kinds & set(self._allowed_updates))
        return not kinds <= _OPT_IN_UPDATES

    def _notify_updates(self) -> None:
        """Wakes every waiting long poll: set the current event, hand out a fresh one."""
        changed, self._updates_changed = self._updates_changed, asyncio.Event()
        changed.set()

    async def _set_webhook(self, call: Call) -> bool:
        """Records the webhook; the tests post updates to it themselves."""
        url = call.params.get("url")
        if not isinstance(url, str) or not url:
            raise bad_request("bad webhook: an HTTPS URL must be provided for webhook")
        secret = call.params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = dict(call.params)
        return True

    async def _delete_webhook(self, call: Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, call: Call) -> JSONDict:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }


def _caption(caption: str) -> JSONDict:
    """A caption and, for a leading ``/cmd``, its bot_command entity."""
    fields: JSONDict = {"caption": caption}
    command = _BOT_COMMAND.match(caption)
    if command:
        fields["caption_entities"] = [
            {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
        ]
    return fields
