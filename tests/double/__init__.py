"""A Telegram Bot API test double: a real HTTP server on loopback.

Why a server and not a mock: python-telegram-bot (PTB) encodes parameters, uploads files,
maps HTTP answers to exceptions and applies timeouts in its own request layer. Reaching a real
socket through ``ApplicationBuilder().base_url(double.base_url)`` exercises all of that, so the
tests see the same ``BadRequest``/``Forbidden``/``RetryAfter``/``TimedOut`` a production bot
would, and the double can check message formatting the way Telegram does.

Everything is in memory, deterministic and bound to 127.0.0.1 only.

`TelegramDouble` (in `server`) is composed of one part per section of the Bot API:

- `html`: Telegram's HTML parse mode and the UTF-16 length limits of texts and captions;
- `chats`: chat kinds, members, and chats that refuse the bot (blocked, missing, migrated);
- `faults`: injected errors, slow answers and flood control;
- `files`: photo uploads, photo URLs, file ids and downloads, files served to the bot;
- `messages`: sending, editing and deleting messages, with their keyboards;
- `topics`: forum supergroups, their topics (created, closed, deleted) and `message_thread_id`;
- `updates`: what readers do (commands, button presses, channel posts), long polling, webhooks;
- `inline`: inline mode: inline queries, answerInlineQuery, chosen results, replies to a message;
- `commands`: the bot's command menus;
- `state` and `wire`: the records every part shares, and the Bot API's parameters and errors.
"""

from tests.double.commands import CommandsRecord
from tests.double.html import EntityParseError, html_to_text, utf16_len
from tests.double.server import TelegramDouble
from tests.double.state import RequestRecord, SentRecord
from tests.double.updates import DEFAULT_GROUP_USER_ID
from tests.double.wire import ApiError, UploadedFile

__all__ = [
    "DEFAULT_GROUP_USER_ID",
    "ApiError",
    "CommandsRecord",
    "EntityParseError",
    "RequestRecord",
    "SentRecord",
    "TelegramDouble",
    "UploadedFile",
    "html_to_text",
    "utf16_len",
]
