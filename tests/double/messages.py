"""Messages the bot sends, edits and deletes, checked the way Telegram checks them.

Every message is stored as Telegram would store it (visible text, entities, the keyboard as
echoed back), so `messages_to` shows a chat as its reader sees it, edits included, and `sent`
keeps a snapshot of each step. An edit that changes nothing is refused with Telegram's "message
is not modified"; only the bot's own messages can be edited; a keyboard is checked button by
button (one action each, callback data of 1-64 bytes).
"""

from __future__ import annotations

import copy
import time

from tests.double.faults import FaultsMixin
from tests.double.files import FilesMixin
from tests.double.html import caption_of, text_of
from tests.double.state import SentRecord
from tests.double.topics import TopicsMixin
from tests.double.wire import Call, JSONDict, bad_request

CALLBACK_DATA_LIMIT = 64
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class MessagesMixin(FaultsMixin, FilesMixin, TopicsMixin):
    """The bot's messages: live ones by (chat, message id), and the order they were sent in."""

    def __init__(self) -> None:
        """No messages yet."""
        super().__init__()
        self._live: dict[tuple[int, int], JSONDict] = {}
        self._sent_keys: list[tuple[int, int]] = []
        self._next_message_id: dict[int, int] = {}

    def messages_to(self, chat_id: int, *, include_deleted: bool = False) -> list[JSONDict]:
        """The bot's messages in a chat, in send order, in their current (edited) state."""
        result: list[JSONDict] = []
        for key in self._sent_keys:
            if key[0] != chat_id:
                continue
            if key in self._live:
                result.append(copy.deepcopy(self._live[key]))
            elif include_deleted:
                result.append(self._snapshot_of(key))
        return result

    def texts_to(self, chat_id: int) -> list[str]:
        """Text or caption of each live bot message in a chat; handy for assertions."""
        return [str(m.get("text") or m.get("caption") or "") for m in self.messages_to(chat_id)]

    def live_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """A live (not deleted) message, bot's or user's, or None."""
        message = self._live.get((chat_id, message_id))
        return copy.deepcopy(message) if message is not None else None

    def _allocate_message_id(self, chat_id: int) -> int:
        next_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = next_id
        return next_id

    def _store_message(
        self, method: str, chat_id: int, params: JSONDict, body: JSONDict
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat_object(chat_id),
            "date": int(time.time()),
        }
        if self.chat_type(chat_id) == "channel":
            message["sender_chat"] = self._chat_object(chat_id)
        message.update(body)
        thread = self._thread_of(chat_id, params)
        if thread is not None:
            message.update(message_thread_id=thread, is_topic_message=True)
        key = (chat_id, message["message_id"])
        self._live[key] = message
        self._sent_keys.append(key)
        return self._record(method, chat_id, params, message)

    def _record(
        self, method: str, chat_id: int, params: JSONDict, message: JSONDict | None
    ) -> JSONDict:
        snapshot = copy.deepcopy(message) if message is not None else None
        self.sent.append(SentRecord(method, chat_id, params, snapshot, self._clock()))
        return copy.deepcopy(message) if message is not None else {}

    def _snapshot_of(self, key: tuple[int, int]) -> JSONDict:
        for record in reversed(self.sent):
            message = record.message
            if message is not None and (record.chat_id, message["message_id"]) == key:
                return copy.deepcopy(message)
        return {}

    def _reply_markup(self, params: JSONDict) -> JSONDict | None:
        """Validates an inline keyboard like Telegram; returns what a Message would carry."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # reply keyboards / remove / force_reply are not echoed in Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup: rows must be arrays")
        if any(len(row) > 8 for row in rows) or sum(len(row) for row in rows) > 100:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                _check_button(button)
        return {"inline_keyboard": copy.deepcopy(rows)}

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if not isinstance(reply, dict) or "message_id" not in reply:
            return None
        target = self._live.get((int(reply.get("chat_id", chat_id)), int(reply["message_id"])))
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        snapshot = copy.deepcopy(target)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _message_for_edit(self, params: JSONDict) -> tuple[int, JSONDict]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._live.get((chat_id, int(message_id)))
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return chat_id, message

    async def _send_message(self, call: Call) -> JSONDict:
        params = call.params
        chat_id = self._target_chat(params)
        text, entities = text_of(params)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(chat_id, params)
        self._thread_of(chat_id, params)
        self._check_flood(chat_id, params)
        body: JSONDict = {"text": text}
        if entities:
            body["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            body["link_preview_options"] = params["link_preview_options"]
        if markup is not None:
            body["reply_markup"] = markup
        if reply_to is not None:
            body["reply_to_message"] = reply_to
        return self._store_message(call.method, chat_id, params, body)

    async def _send_photo(self, call: Call) -> JSONDict:
        params = call.params
        chat_id = self._target_chat(params)
        caption, entities = caption_of(params)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(chat_id, params)
        existing, data = self._check_photo(params.get("photo"), params)
        self._thread_of(chat_id, params)
        self._check_flood(chat_id, params)
        body: JSONDict = {"photo": self._photo_sizes(existing, data)}
        if caption:
            body["caption"] = caption
        if entities:
            body["caption_entities"] = entities
        if params.get("has_spoiler"):
            body["has_media_spoiler"] = True
        if params.get("show_caption_above_media"):
            body["show_caption_above_media"] = True
        if markup is not None:
            body["reply_markup"] = markup
        if reply_to is not None:
            body["reply_to_message"] = reply_to
        return self._store_message(call.method, chat_id, params, body)

    def _apply_edit(
        self, call: Call, chat_id: int, message: JSONDict, changes: JSONDict
    ) -> JSONDict:
        """Applies an edit unless nothing changes (Telegram's "message is not modified")."""
        markup = self._reply_markup(call.params)
        changes = {**changes, "reply_markup": markup}
        current = {key: message.get(key) for key in changes}
        wanted = {key: value or None for key, value in changes.items()}
        if {k: v or None for k, v in current.items()} == wanted:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        for key, value in wanted.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return self._record(call.method, chat_id, call.params, message)

    async def _edit_message_text(self, call: Call) -> JSONDict:
        params = call.params
        chat_id, message = self._message_for_edit(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = text_of(params)
        changes: JSONDict = {"text": text, "entities": entities}
        if isinstance(params.get("link_preview_options"), dict):
            changes["link_preview_options"] = params["link_preview_options"]
        return self._apply_edit(call, chat_id, message, changes)

    async def _edit_message_caption(self, call: Call) -> JSONDict:
        params = call.params
        chat_id, message = self._message_for_edit(params)
        if "photo" not in message:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = caption_of(params)
        changes: JSONDict = {"caption": caption, "caption_entities": entities}
        return self._apply_edit(call, chat_id, message, changes)

    async def _edit_message_media(self, call: Call) -> JSONDict:
        params = call.params
        chat_id, message = self._message_for_edit(params)
        media = params.get("media")
        if not isinstance(media, dict):
            raise bad_request("can't parse InputMedia JSON object")
        if media.get("type") != "photo":
            raise bad_request("the double supports only photo media in editMessageMedia")
        caption, entities = caption_of(
            {
                "caption": media.get("caption"),
                "parse_mode": media.get("parse_mode"),
                "caption_entities": media.get("caption_entities"),
            }
        )
        existing, data = self._check_photo(media.get("media"), params)
        sizes = existing if existing is not None else self._photo_sizes(None, data)
        changes: JSONDict = {
            "photo": sizes,
            "caption": caption,
            "caption_entities": entities,
            "text": None,
            "entities": None,
            "link_preview_options": None,
        }
        return self._apply_edit(call, chat_id, message, changes)

    async def _edit_message_reply_markup(self, call: Call) -> JSONDict:
        chat_id, message = self._message_for_edit(call.params)
        return self._apply_edit(call, chat_id, message, {})

    async def _delete_message(self, call: Call) -> bool:
        params = call.params
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._live.pop((chat_id, int(message_id)), None)
        if message is None:
            raise bad_request("message to delete not found")
        self._record(call.method, chat_id, params, message)
        return True


def _check_button(button: object) -> None:
    """One inline button: text plus exactly one action; callback_data 1-64 bytes."""
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: object expected")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(f"can't parse inline keyboard button: more than one action {actions}")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")
