"""The Bot API on the wire: parameters as they arrive, and errors as Telegram answers them.

PTB sends some parameters as form fields and some as JSON; both arrive here as strings, and
`decode_param` turns them back into the types the Bot API documents, refusing what Telegram
would refuse with the same description.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

_NUMERIC = re.compile(r"-?\d+")

# Parameters PTB (and the Bot API) transmit as JSON-serialised strings.
_JSON_PARAMS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "reply_markup",
        "reply_parameters",
        "results",
        "scope",
    }
)
_INT_PARAMS = frozenset(
    {"cache_time", "limit", "message_id", "message_thread_id", "offset", "user_id"}
)
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset(
    {
        "allow_paid_broadcast",
        "allow_sending_without_reply",
        "is_personal",
        "disable_notification",
        "drop_pending_updates",
        "has_spoiler",
        "protect_content",
        "show_alert",
        "show_caption_above_media",
    }
)


class ApiError(Exception):
    """A Bot API error answer; raised anywhere inside a handler so checks can bail out early."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: JSONDict | None = None) -> ApiError:
    """Telegram's most common answer: 400 with "Bad Request: <reason>"."""
    return ApiError(400, f"Bad Request: {reason}", parameters)


@dataclass(frozen=True)
class UploadedFile:
    """A multipart upload as received, so tests can check what bytes the bot sent."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One API call as a method's implementation sees it: the name, decoded params, request."""

    method: str
    params: JSONDict
    request: web.Request


def decode_param(name: str, value: object) -> object:
    """Turns transport strings back into the types the Bot API documents."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name == "chat_id":
            return int(value) if _NUMERIC.fullmatch(value) else value
        if name in _INT_PARAMS:
            return int(value)
        if name in _FLOAT_PARAMS:
            return float(value)
    except ValueError as exc:
        if name not in _JSON_PARAMS:
            raise bad_request(f"invalid {name} specified") from exc
        what = "reply keyboard markup" if name == "reply_markup" else name
        raise bad_request(f"can't parse {what} JSON object") from exc
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value
