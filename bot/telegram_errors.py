"""What a Bot API error means, read once, in one place; what to do about it is the caller's.

python-telegram-bot raises a handful of exception classes and says the rest in words: a
`BadRequest` may be a photo Telegram could not fetch, a chat that is gone, an edit with nothing
to change or a bug in a card. `classify` turns any `telegram.error.TelegramError` into a `Fault`
with the figures it carries, so callers decide by meaning, never by message text:

    Fault               PTB raises                          a broadcaster
    RETRY_LATER         RetryAfter (`retry_after`)          waits that long, keeps the message
    TOKEN_REFUSED       InvalidToken, EndPointNotFound      waits for its set-up to be fixed
    CHAT_GONE           Forbidden; BadRequest "chat not     makes the chat inactive
                        found", "not enough rights"...
    CHAT_MOVED          ChatMigrated (`new_chat_id`)        follows the chat to its new id
    IMAGE_UNFETCHABLE   BadRequest "failed to get HTTP      uploads the image itself
                        URL content"...
    NOT_MODIFIED        BadRequest "message is not          has nothing left to do
                        modified"
    MESSAGE_GONE        BadRequest "message to edit/        has nothing left to do
                        delete not found"
    CANNOT_DELETE       BadRequest "message can't be        edits the message instead
                        deleted"
    TOPIC_GONE          BadRequest "TOPIC_CLOSED",          sends to the forum's General
                        "message thread not found"...       topic instead
    BAD_REQUEST         any other BadRequest                logs a bug; never repeats it
    TIMED_OUT           TimedOut                            cannot know whether it arrived
    NETWORK             NetworkError (5xx, lost             tries again with backoff
                        connections), anything else

Telegram's words are matched in `str(exc).lower()`: PTB strips "Bad Request: " and capitalises
what is left, and Telegram's own capitals vary ("HTTP URL", "CHAT_WRITE_FORBIDDEN").
`BadRequest` and `TimedOut` are subclasses of `NetworkError`, so they are told apart first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, auto

from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)


class Fault(Enum):
    """What a Telegram error says, whatever the request was (a card, an edit, a deletion)."""

    RETRY_LATER = auto()
    """Flood control: the chat, or the bot as a whole, waits as long as Telegram asked."""
    TOKEN_REFUSED = auto()
    """The token or the API address is wrong: every call fails until the set-up is fixed."""
    CHAT_GONE = auto()
    """Blocked, removed, deleted, deactivated, or no right to post: the chat cannot receive."""
    CHAT_MOVED = auto()
    """The group became a supergroup: the chat lives on at a new id."""
    IMAGE_UNFETCHABLE = auto()
    """Telegram could not use the photo it was given (a URL it cannot fetch, a stale file_id)."""
    NOT_MODIFIED = auto()
    """The edit changes nothing: the message already reads that way."""
    MESSAGE_GONE = auto()
    """The message to edit or delete is not there any more (deleted by hand, say)."""
    CANNOT_DELETE = auto()
    """Telegram will not let the bot delete this message (too old, or no right to)."""
    TOPIC_GONE = auto()
    """The forum topic the message was sent to is closed or deleted; the chat is still there."""
    BAD_REQUEST = auto()
    """Any other refusal of the request as it was made: a bug to fix, never worth repeating."""
    TIMED_OUT = auto()
    """No answer in time: the request may or may not have taken effect."""
    NETWORK = auto()
    """Server errors, lost connections, unexpected answers: worth trying again later."""


#: Telegram's words (lower case) for each meaning a `BadRequest` can have, checked in this order.
BAD_REQUEST_WORDS: tuple[tuple[Fault, tuple[str, ...]], ...] = (
    (Fault.NOT_MODIFIED, ("message is not modified",)),
    (Fault.MESSAGE_GONE, ("message to edit not found", "message to delete not found")),
    (Fault.CANNOT_DELETE, ("message can't be deleted",)),
    (
        Fault.TOPIC_GONE,
        ("topic_closed", "topic_deleted", "message thread not found", "topic_id_invalid"),
    ),
    (
        Fault.CHAT_GONE,
        (
            "chat not found",
            "user is deactivated",
            "have no rights to send",
            "not enough rights",
            "need administrator rights",
            "chat_write_forbidden",
        ),
    ),
    (
        Fault.IMAGE_UNFETCHABLE,
        (
            "wrong file identifier",
            "wrong remote file identifier",
            "failed to get http url content",
            "wrong type of the web page content",
            "photo_invalid_dimensions",
            "image_process_failed",
            "file is too big",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Classification:
    """A Telegram error read for what it means, with the figures that meaning carries."""

    fault: Fault
    reason: str
    """Telegram's words, as python-telegram-bot gives them: for logs and records."""
    retry_after: float = 0.0
    """For `RETRY_LATER`: seconds Telegram asked to wait."""
    new_chat_id: int | None = None
    """For `CHAT_MOVED`: the supergroup's id."""

    @property
    def final(self) -> bool:
        """Telegram answered, and the same request would get the same answer: only waiting,
        a working network or a fixed set-up can change the other faults."""
        return self.fault not in _PASSING


#: The faults that say nothing about the request itself.
_PASSING = frozenset({Fault.RETRY_LATER, Fault.TOKEN_REFUSED, Fault.TIMED_OUT, Fault.NETWORK})


def classify(exc: TelegramError) -> Classification:
    """What `exc` means; pure, and total: an error it does not know is a `NETWORK` fault."""
    reason = str(exc)
    if isinstance(exc, RetryAfter):
        return Classification(
            Fault.RETRY_LATER, reason, retry_after=retry_after_seconds(exc.retry_after)
        )
    if isinstance(exc, ChatMigrated):
        return Classification(Fault.CHAT_MOVED, reason, new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        return Classification(Fault.CHAT_GONE, reason)
    if isinstance(exc, BadRequest):
        return Classification(_bad_request(reason.lower()), reason)
    if isinstance(exc, InvalidToken | EndPointNotFound):
        return Classification(Fault.TOKEN_REFUSED, reason)
    if isinstance(exc, TimedOut):
        return Classification(Fault.TIMED_OUT, reason)
    return Classification(Fault.NETWORK, reason)


def retry_after_seconds(retry_after: int | float | timedelta) -> float:
    """A `retry_after` in seconds: PTB gives a timedelta with `PTB_TIMEDELTA=1`, else an int."""
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


def _bad_request(text: str) -> Fault:
    for fault, words in BAD_REQUEST_WORDS:
        if any(word in text for word in words):
            return fault
    return Fault.BAD_REQUEST
