"""Inline mode: `@bot words` typed in any chat, the bot's answer, and a result being chosen.

Tests play the reader: `inline_query` queues an `inline_query` update (the words typed so far,
and an offset when scrolling); the bot answers with `answerInlineQuery`, checked as Telegram
checks it (one answer per query, at most 50 results, ids of 1-64 bytes and unique, an article's
message text formatted and within the limit, thumbnails as http(s) addresses, a `next_offset`
of at most 64 bytes) and kept in `inline_answers`. `choose_inline_result` is the reader tapping
one: its message appears in the chat they typed in, sent by the reader "via" the bot, and a
`chosen_inline_result` update follows when inline feedback is on (`inline_feedback`, which
@BotFather's /setinlinefeedback switches). `send_reply` is a reader's message in reply to
another (`/share` under a card).
"""

from __future__ import annotations

import copy
import time

from tests.double.html import text_of
from tests.double.messages import _check_button
from tests.double.updates import UpdatesMixin
from tests.double.wire import Call, JSONDict, bad_request

MOST_RESULTS = 50
RESULT_ID_BYTES = 64
NEXT_OFFSET_BYTES = 64
QUERY_CHARACTERS = 256


class InlineMixin(UpdatesMixin):
    """Inline queries waiting for an answer, the answers, and what readers posted from them."""

    def __init__(self) -> None:
        """No inline queries yet; feedback (chosen results) on."""
        super().__init__()
        self.inline_feedback = True
        self.inline_answers: dict[str, JSONDict] = {}
        """The parameters of each answerInlineQuery, by inline query id."""
        self._inline_queries: dict[str, JSONDict] = {}

    def inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "private",
        language_code: str | None = "en",
    ) -> str:
        """Queues what a reader typed after the bot's name; returns the inline query's id."""
        if len(query) > QUERY_CHARACTERS:
            raise ValueError("Telegram sends at most 256 characters of an inline query")
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": "Test"}
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        query_id = str(next(self._ids) + 7_000_000_000)
        inline: JSONDict = {
            "id": query_id,
            "from": user,
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self._inline_queries[query_id] = inline
        self.add_update({"inline_query": copy.deepcopy(inline)})
        return query_id

    def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> JSONDict:
        """The reader taps a result: its message is posted in `chat_id` via the bot, and
        `chosen_inline_result` is queued (with feedback on). Returns the posted message."""
        answer = self.inline_answers.get(query_id)
        if answer is None:
            raise ValueError(f"inline query {query_id} has no answer")
        result = next((r for r in answer["results"] if r["id"] == result_id), None)
        if result is None:
            raise ValueError(f"inline query {query_id} offered no result {result_id!r}")
        inline = self._inline_queries[query_id]
        content = result["input_message_content"]
        text, entities = text_of({**content, "text": content["message_text"]})
        message: JSONDict = {
            "message_id": self._allocate_message_id(chat_id),
            "from": inline["from"],
            "via_bot": dict(self.bot_user),
            "chat": self._chat_object(chat_id),
            "date": int(time.time()),
            "text": text,
            "entities": entities,
        }
        if "link_preview_options" in content:
            message["link_preview_options"] = content["link_preview_options"]
        if "reply_markup" in result:
            message["reply_markup"] = copy.deepcopy(result["reply_markup"])
        self._live[(chat_id, message["message_id"])] = message
        if self.inline_feedback:
            chosen: JSONDict = {
                "result_id": result_id,
                "from": inline["from"],
                "query": inline["query"],
            }
            self.add_update({"chosen_inline_result": chosen})
        return copy.deepcopy(message)

    def send_reply(self, chat_id: int, text: str, reply_to: int, **options: object) -> JSONDict:
        """Queues a reader's message (a command, say) in reply to the live message `reply_to`."""
        target = self._live.get((chat_id, reply_to))
        if target is None:
            raise ValueError(f"no live message {reply_to} in chat {chat_id}")
        update = self.send_text(chat_id, text, **options)  # type: ignore[arg-type]
        quoted = copy.deepcopy(target)
        quoted.pop("reply_to_message", None)
        update["message"]["reply_to_message"] = quoted
        self._live[(chat_id, update["message"]["message_id"])]["reply_to_message"] = quoted
        return update

    async def _answer_inline_query(self, call: Call) -> bool:
        params = call.params
        query_id = str(params.get("inline_query_id", ""))
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list) or len(results) > MOST_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            _check_result(result, seen)
        next_offset = str(params.get("next_offset") or "")
        if len(next_offset.encode()) > NEXT_OFFSET_BYTES:
            raise bad_request("NEXT_OFFSET_INVALID")
        self.inline_answers[query_id] = copy.deepcopy(params)
        return True


def _check_result(result: object, seen: set[str]) -> None:
    """One InlineQueryResultArticle, as Telegram checks it."""
    if not isinstance(result, dict) or result.get("type") != "article":
        raise bad_request("RESULT_TYPE_INVALID")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= RESULT_ID_BYTES:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    if not isinstance(result.get("title"), str) or not result["title"].strip():
        raise bad_request("RESULT_TITLE_EMPTY")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or "message_text" not in content:
        raise bad_request("MESSAGE_EMPTY")
    text_of({**content, "text": content["message_text"]})
    thumbnail = result.get("thumbnail_url")
    if thumbnail is not None and not str(thumbnail).startswith(("http://", "https://")):
        raise bad_request("THUMBNAIL_URL_INVALID")
    for row in result.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            _check_button(button)
