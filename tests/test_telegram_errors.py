"""What each Bot API error means: Telegram's own answers, turned into errors by PTB itself."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData

from bot.telegram_errors import Classification, Fault, classify, retry_after_seconds

URL = "https://api.telegram.org/bot123456:TEST/sendMessage"


class Answering(BaseRequest):
    """A transport that gives one answer to every request, so PTB raises what it would raise
    on Telegram's answer: its own exception class and its own treatment of the words."""

    def __init__(self, status: int, body: bytes) -> None:
        self._status = status
        self._body = body

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        return self._status, self._body


async def telegram_says(status: int, description: str, **parameters: object) -> TelegramError:
    """The error PTB raises when Telegram answers with this status, description and parameters."""
    answer: dict[str, object] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        answer["parameters"] = parameters
    with pytest.raises(TelegramError) as raised:
        await Answering(status, json.dumps(answer).encode()).post(URL)
    return raised.value


async def meaning(status: int, description: str, **parameters: object) -> Fault:
    return classify(await telegram_says(status, description, **parameters)).fault


# --- flood control and moved chats carry their figures -------------------------------------------


async def test_flood_control_says_how_long_to_wait() -> None:
    error = await telegram_says(429, "Too Many Requests: retry after 7", retry_after=7)
    assert isinstance(error, RetryAfter)
    assert classify(error) == Classification(Fault.RETRY_LATER, str(error), retry_after=7.0)


def test_retry_after_is_read_in_seconds_whatever_ptb_gives() -> None:
    assert retry_after_seconds(timedelta(seconds=3)) == 3.0
    assert retry_after_seconds(timedelta(milliseconds=1500)) == 1.5
    assert retry_after_seconds(5) == 5.0
    assert classify(RetryAfter(timedelta(seconds=2))).retry_after == 2.0
    assert classify(RetryAfter(11)).retry_after == 11.0


async def test_a_group_that_became_a_supergroup_says_where_it_went() -> None:
    error = await telegram_says(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-1001234567890,
    )
    assert isinstance(error, ChatMigrated)
    found = classify(error)
    assert found.fault is Fault.CHAT_MOVED
    assert found.new_chat_id == -1001234567890


# --- chats that cannot receive ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (403, "Forbidden: bot was blocked by the user"),
        (403, "Forbidden: bot was kicked from the group chat"),
        (403, "Forbidden: bot was kicked from the supergroup chat"),
        (403, "Forbidden: bot is not a member of the channel chat"),
        (403, "Forbidden: user is deactivated"),
        (403, "Forbidden: bot can't initiate conversation with a user"),
        (400, "Bad Request: chat not found"),
        (400, "Bad Request: need administrator rights in the channel chat"),
        (400, "Bad Request: not enough rights to send text messages to the chat"),
        (400, "Bad Request: have no rights to send a message"),
        (400, "Bad Request: CHAT_WRITE_FORBIDDEN"),
    ],
)
async def test_a_chat_that_is_gone(status: int, description: str) -> None:
    error = await telegram_says(status, description)
    assert isinstance(error, Forbidden if status == 403 else BadRequest)
    assert classify(error).fault is Fault.CHAT_GONE


# --- images Telegram could not use --------------------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        "Bad Request: wrong file identifier/HTTP URL specified",
        "Bad Request: failed to get HTTP URL content",
        "Bad Request: wrong type of the web page content",
        "Bad Request: wrong remote file identifier specified: Wrong character in the string",
        "Bad Request: PHOTO_INVALID_DIMENSIONS",
        "Bad Request: IMAGE_PROCESS_FAILED",
        "Bad Request: file is too big",
    ],
)
async def test_a_photo_telegram_could_not_use(description: str) -> None:
    assert await meaning(400, description) is Fault.IMAGE_UNFETCHABLE


# --- edits and deletions ------------------------------------------------------------------------


async def test_an_edit_that_changes_nothing() -> None:
    description = (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    assert await meaning(400, description) is Fault.NOT_MODIFIED


@pytest.mark.parametrize(
    "description",
    ["Bad Request: message to edit not found", "Bad Request: message to delete not found"],
)
async def test_a_message_no_longer_there(description: str) -> None:
    assert await meaning(400, description) is Fault.MESSAGE_GONE


@pytest.mark.parametrize(
    "description",
    ["Bad Request: message can't be deleted", "Bad Request: message can't be deleted for everyone"],
)
async def test_a_message_the_bot_may_not_delete(description: str) -> None:
    assert await meaning(400, description) is Fault.CANNOT_DELETE


# --- requests refused as they are: bugs, never retried -------------------------------------------


@pytest.mark.parametrize(
    "description",
    [
        'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0',
        "Bad Request: message caption is too long",
        "Bad Request: message is too long",
        "Bad Request: message text is empty",
        "Bad Request: message can't be edited",
        "Bad Request: member list is inaccessible",
    ],
)
async def test_any_other_bad_request_is_a_bad_request(description: str) -> None:
    error = await telegram_says(400, description)
    assert isinstance(error, BadRequest)
    assert classify(error).fault is Fault.BAD_REQUEST


# --- the bot's own set-up ---------------------------------------------------------------------


async def test_a_refused_token_or_a_wrong_address() -> None:
    unauthorized = await telegram_says(401, "Unauthorized")
    not_found = await telegram_says(404, "Not Found")
    assert isinstance(unauthorized, InvalidToken) and isinstance(not_found, InvalidToken)
    assert classify(unauthorized).fault is Fault.TOKEN_REFUSED
    assert classify(not_found).fault is Fault.TOKEN_REFUSED
    assert classify(EndPointNotFound("Not Found")).fault is Fault.TOKEN_REFUSED


# --- trouble on the way: worth trying again ---------------------------------------------------


async def test_a_timeout_is_told_apart_from_other_network_trouble() -> None:
    # TimedOut and BadRequest are both NetworkErrors in PTB; neither is read as the other.
    assert classify(TimedOut()).fault is Fault.TIMED_OUT
    assert classify(TimedOut("Pool timeout: All connections in the pool are busy")).fault is (
        Fault.TIMED_OUT
    )


@pytest.mark.parametrize(
    ("status", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_server_errors_are_network_trouble(status: int, description: str) -> None:
    error = await telegram_says(status, description)
    assert type(error) is NetworkError
    assert classify(error).fault is Fault.NETWORK


async def test_an_answer_that_is_not_json_is_network_trouble() -> None:
    with pytest.raises(TelegramError) as raised:
        await Answering(502, b"<html>502 Bad Gateway</html>").post(URL)
    assert classify(raised.value).fault is Fault.NETWORK


def test_anything_else_telegram_raises_is_network_trouble() -> None:
    for error in (
        NetworkError("httpx.ConnectError: All connection attempts failed"),
        NetworkError("aiohttp.ServerDisconnectedError: Server disconnected"),
        TelegramError("Invalid server response"),
        Conflict("Conflict: terminated by other getUpdates request"),
    ):
        assert classify(error).fault is Fault.NETWORK, error


# --- the classification itself ------------------------------------------------------------------


async def test_the_reason_is_telegrams_words_as_ptb_gives_them() -> None:
    error = await telegram_says(400, "Bad Request: chat not found")
    assert classify(error).reason == "Chat not found" == str(error)


async def test_classifying_is_pure() -> None:
    error = await telegram_says(429, "Too Many Requests: retry after 3", retry_after=3)
    assert isinstance(error, RetryAfter)
    words = str(error)
    assert classify(error) == classify(error)
    assert str(error) == words and error.retry_after == timedelta(seconds=3)


async def test_what_chat_commands_meet() -> None:
    """The errors a command handler meets, each with the meaning it acts on."""
    # Redrawing a keyboard that did not change.
    not_modified = "Bad Request: message is not modified: specified new message content"
    assert await meaning(400, not_modified) is Fault.NOT_MODIFIED
    # Looking up a channel the bot cannot see, or its own place in it.
    assert await meaning(400, "Bad Request: chat not found") is Fault.CHAT_GONE
    assert await meaning(403, "Forbidden: bot is not a member of the channel chat") is (
        Fault.CHAT_GONE
    )
    assert await meaning(400, "Bad Request: member list is inaccessible") is Fault.BAD_REQUEST
    # A reply held back by flood control, for a few seconds.
    busy = classify(await telegram_says(429, "Too Many Requests: retry after 2", retry_after=2))
    assert (busy.fault, busy.retry_after) == (Fault.RETRY_LATER, 2.0)
