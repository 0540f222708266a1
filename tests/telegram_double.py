"""A Telegram Bot API test double: a real HTTP server on loopback.

Why a server and not a mock: python-telegram-bot (PTB) encodes parameters, uploads files,
maps HTTP answers to exceptions and applies timeouts in its own request layer. Reaching a real
socket through ``ApplicationBuilder().base_url(double.base_url)`` exercises all of that, so the
tests see the same ``BadRequest``/``Forbidden``/``RetryAfter``/``TimedOut`` a production bot
would, and the double can check message formatting the way Telegram does.

Everything is in memory, deterministic and bound to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any, NamedTuple, NoReturn, Self, TypeVar

from aiohttp import web

__all__ = [
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

JSONDict = dict[str, Any]
T = TypeVar("T")

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
PHOTO_URL_LIMIT = 5 * 1024 * 1024
MAX_LONG_POLL = 50.0
DEFAULT_GROUP_USER_ID = 100_000  # the user behind group messages when none is given
_POLL_SLICE = 0.2  # how often a waiting long poll looks for a disconnected client

_WHITESPACE = " \t\r\n\x0b\x0c"
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
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
        "disable_notification",
        "drop_pending_updates",
        "has_spoiler",
        "protect_content",
        "show_alert",
        "show_caption_above_media",
    }
)
# Update kinds Telegram withholds unless they are asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
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
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
_PHOTO_SIZES = ((90, 51), (320, 180), (800, 450))

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram's limits and entity offsets use."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


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


def _bad_request(reason: str, parameters: JSONDict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


class SentRecord(NamedTuple):
    """One successful send/edit/delete, with a snapshot of the message as it was then."""

    method: str
    chat_id: int
    params: JSONDict
    message: JSONDict | None
    at: float


class RequestRecord(NamedTuple):
    """Every API call, failed ones included, so tests can assert on retries and errors."""

    method: str
    params: JSONDict
    status: int
    response: JSONDict
    at: float


class CommandsRecord(NamedTuple):
    """One setMyCommands/deleteMyCommands call: menus are state tests want to inspect."""

    action: str
    scope: JSONDict
    language_code: str
    commands: list[JSONDict]
    at: float


@dataclass(frozen=True)
class UploadedFile:
    """A multipart upload as received, so tests can check what bytes the bot sent."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: JSONDict | None
    remaining: int
    chat_id: int | str | None = None


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int
    drop: bool


@dataclass(frozen=True)
class _FloodLimits:
    global_per_second: int
    private_per_second: int
    group_per_minute: int
    paid_per_second: int


@dataclass
class _StoredPhoto:
    sizes: list[JSONDict]
    data: bytes | None


@dataclass
class _Call:
    method: str
    params: JSONDict
    request: web.Request


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "blockquote", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(Exception):
    """Raised by the HTML parser; becomes 400 "can't parse entities: ..."."""


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str | None]
    language: str | None = None


class _TelegramHTMLParser(HTMLParser):
    """Parses Telegram's HTML subset into visible text plus MessageEntity dicts.

    ``convert_charrefs=False`` makes HTMLParser hand over every ``&...`` and stray ``<``
    separately, so nothing Telegram would refuse slips through as plain data.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        # The trailing newline is a sentinel: without it HTMLParser.close() silently drops
        # the "&" of a trailing "&T" or "&amp". Telegram trims it away like any whitespace.
        self._source = source + "\n"
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self._chunks: list[str] = []
        self._units = 0
        self._open: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    @property
    def text(self) -> str:
        """The visible text parsed so far."""
        return "".join(self._chunks)

    def parse(self) -> None:
        """Feeds the whole source; raises EntityParseError on the first problem."""
        empty_end_tag = self._source.find("</>")
        if empty_end_tag >= 0:  # HTMLParser silently skips "</>"; Telegram does not.
            self._fail(f"Empty end tag at byte offset {self._byte_offset(empty_end_tag)}")
        self.feed(self._source)
        self.close()
        if self._open:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self._open[-1].name}"')

    def _index(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _byte_offset(self, index: int | None = None) -> int:
        position = self._index() if index is None else index
        return len(self._source[:position].encode("utf-8", "surrogatepass"))

    def _fail(self, reason: str) -> NoReturn:
        raise EntityParseError(reason)

    def _append(self, text: str) -> None:
        self._chunks.append(text)
        self._units += utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Opens an entity after checking the tag and its required attributes."""
        if tag not in _ALLOWED_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        attributes = dict(attrs)
        where = f"at byte offset {self._byte_offset()}"
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            self._fail(f'Tag "span" must have class "tg-spoiler" {where}')
        if tag == "tg-emoji" and not attributes.get("emoji-id"):
            self._fail(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        self._open.append(_OpenTag(tag, self._units, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Telegram has no void tags, so ``<br/>`` and ``<b/>`` are errors."""
        if tag not in _ALLOWED_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self._fail(f'Self-closing tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        """Closes the innermost entity; tags must nest properly."""
        if not self._open:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        current = self._open[-1]
        if current.name != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{current.name}>", found "</{tag}>"'
            )
        self._open.pop()
        parent = self._open[-1] if self._open else None
        if tag == "code" and parent is not None and parent.name == "pre":
            css = current.attrs.get("class") or ""
            if css.startswith("language-"):
                parent.language = css.removeprefix("language-")
            return  # <pre><code> is one pre entity in Telegram
        self._add_entity(current)

    def _add_entity(self, tag: _OpenTag) -> None:
        length = self._units - tag.start
        if length <= 0:
            return
        entity: JSONDict = {"offset": tag.start, "length": length}
        if tag.name == "a":
            href = tag.attrs.get("href")
            if not href:
                return
            entity.update(type="text_link", url=href)
        elif tag.name == "blockquote":
            expandable = "expandable" in tag.attrs
            entity["type"] = "expandable_blockquote" if expandable else "blockquote"
        elif tag.name == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
        else:
            entity["type"] = _SIMPLE_TAGS[tag.name]
            if tag.name == "pre" and tag.language:
                entity["language"] = tag.language
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        """Plain text; a ``<`` or ``&`` here is markup Telegram could not parse."""
        for char, what in (("<", "<"), ("&", "&")):
            position = data.find(char)
            if position < 0:
                continue
            offset = self._byte_offset(self._index() + position)
            follower = data[position + 1 : position + 2]
            if char == "<" and follower.isalpha():
                self._fail(f"Unclosed start tag at byte offset {offset}")
            if char == "<" and follower == "/":
                self._fail(f"Unclosed end tag at byte offset {offset}")
            self._fail(f'Unescaped "{what}" at byte offset {offset}; escape it as an entity')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        """Only &lt; &gt; &amp; &quot; exist in Telegram HTML, and the ``;`` is mandatory."""
        index = self._index()
        if self._source[index + 1 + len(name) : index + 2 + len(name)] != ";":
            self._fail(f'Unterminated entity "&{name}" at byte offset {self._byte_offset()}')
        if name not in _NAMED_ENTITIES:
            self._fail(f'Unsupported HTML entity "&{name};" at byte offset {self._byte_offset()}')
        self._append(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        """Numeric references (``&#39;``, ``&#x27;``) are fine if they name a code point."""
        index = self._index()
        if self._source[index + 2 + len(name) : index + 3 + len(name)] != ";":
            self._fail(f'Unterminated entity "&#{name}" at byte offset {self._byte_offset()}')
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
        except ValueError:
            code = -1
        if not (0 < code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
            self._fail(f'Invalid character reference "&#{name};" at {self._byte_offset()}')
        self._append(chr(code))

    def handle_comment(self, data: str) -> None:
        """Comments are not part of Telegram's HTML."""
        self._fail(f"Unsupported HTML comment at byte offset {self._byte_offset()}")

    def handle_decl(self, decl: str) -> None:
        """Declarations are not part of Telegram's HTML."""
        self._fail(f"Unsupported declaration at byte offset {self._byte_offset()}")

    def handle_pi(self, data: str) -> None:
        """Processing instructions are not part of Telegram's HTML."""
        self._fail(f"Unsupported processing instruction at byte offset {self._byte_offset()}")

    def unknown_decl(self, data: str) -> None:
        """CDATA and friends are not part of Telegram's HTML."""
        self._fail(f"Unsupported declaration at byte offset {self._byte_offset()}")


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram strips leading/trailing whitespace; entity offsets move with it."""
    stripped = text.strip(_WHITESPACE)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_WHITESPACE))])
    total = utf16_len(stripped)
    moved: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


def html_to_text(source: str) -> tuple[str, list[JSONDict]]:
    """Visible text and entities of an HTML-formatted message, as Telegram would store them.

    Raises EntityParseError with a Telegram-style reason if Telegram would reject it.
    """
    parser = _TelegramHTMLParser(source)
    parser.parse()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return _trim(parser.text, entities)


# --------------------------------------------------------------------------------------------
# The double
# --------------------------------------------------------------------------------------------


class TelegramDouble:
    """An in-memory Telegram Bot API server on 127.0.0.1 for integration tests.

    Use ``async with TelegramDouble() as double:`` and point PTB at ``double.base_url``.
    Configuration attributes (sets/dicts) can be changed at any time; they apply to the next
    request. Records (``sent``, ``requests``) are plain lists for direct assertions.
    """

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "newsbot_test_bot",
        bot_first_name: str = "Newsbot Test",
        check_image_bytes: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configures the bot identity; ``clock`` drives flood windows and record times."""
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.check_image_bytes = check_image_bytes
        self._clock = clock

        # Configuration tests poke directly.
        self.chat_types: dict[int, str] = {}
        self.chat_titles: dict[int, str] = {}
        self.chat_usernames: dict[str, int] = {}
        self.forbidden_chats: set[int] = set()
        self.missing_chats: set[int] = set()
        self.migrations: dict[int, int] = {}
        self.unfetchable_urls: set[str] = set()
        #: Seconds before a served file is answered, as from a slow image host.
        self.served_delay = 0.0
        self.member_statuses: dict[tuple[int, int], str] = {}

        # Records.
        self.sent: list[SentRecord] = []
        self.requests: list[RequestRecord] = []
        self.command_history: list[CommandsRecord] = []
        self.callback_answers: list[JSONDict] = []
        self.served_hits: dict[str, int] = {}
        self.internal_errors: list[str] = []
        self.flood_errors = 0
        self.webhook: JSONDict | None = None
        """The parameters of the last setWebhook (url, secret_token, ...); None once deleted."""

        # State.
        self._live: dict[tuple[int, int], JSONDict] = {}
        self._sent_keys: list[tuple[int, int]] = []
        self._next_message_id: dict[int, int] = {}
        self._users: dict[int, JSONDict] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._photos: dict[str, _StoredPhoto] = {}
        self._file_paths: dict[str, str] = {}
        self._served: dict[str, tuple[bytes, str]] = {}
        self._open_callbacks: set[str] = set()
        self._ids = itertools.count(1)
        self._pending: list[JSONDict] = []
        self._last_update_id = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._updates_changed = asyncio.Event()
        self._closing = asyncio.Event()

        # Fault injection.
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._flood: _FloodLimits | None = None
        self._flood_global: deque[float] = deque()
        self._flood_chats: dict[int, deque[float]] = {}

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Callable[[_Call], Awaitable[Any]]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getMyCommands": self._get_my_commands,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageMedia": self._edit_message_media,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getFile": self._get_file,
            }.items()
        }

    # ---------------------------------------------------------------- lifecycle and URLs

    async def start(self) -> None:
        """Binds a random free loopback port and starts serving."""
        if self._runner is not None:
            raise RuntimeError("TelegramDouble is already running")
        self._closing = asyncio.Event()
        self._updates_changed = asyncio.Event()
        app = web.Application(client_max_size=PHOTO_UPLOAD_LIMIT * 2)
        app.router.add_get("/bot{token}/{method}", self._handle_api)
        app.router.add_post("/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file_download)
        app.router.add_get("/files/{path:.+}", self._handle_served_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Wakes long polls and delayed answers, then closes the server quickly."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        self._notify_updates()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port; only valid while running."""
        if self._port is None:
            raise RuntimeError("TelegramDouble is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url()``; PTB appends the token and ``/method``."""
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url()``; PTB appends token and file path."""
        return f"{self.url}/file/bot"

    def serve_file(
        self, path: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> str:
        """Serves ``body`` at ``/files/<path>`` so the bot can download from loopback."""
        key = path.lstrip("/")
        self._served[key] = (body, content_type)
        return f"{self.url}/files/{key}"

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Queues ``times`` error answers for ``method`` (optionally only for one chat)."""
        parameters: JSONDict = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to is not None:
            parameters["migrate_to_chat_id"] = migrate_to
        if description is None:
            if retry_after is not None:
                description = f"Too Many Requests: retry after {retry_after}"
            elif migrate_to is not None:
                description = "Bad Request: group chat was upgraded to a supergroup chat"
            else:
                description = HTTPStatus(status).phrase
        self._failures.append(
            _Failure(method.lower(), status, description, parameters or None, times, chat_id)
        )

    def server_error_next(self, method: str, times: int = 1, status: int = 502) -> None:
        """Queues gateway-style failures (PTB raises NetworkError) for ``method``."""
        self.fail_next(method, status=status, description=HTTPStatus(status).phrase, times=times)

    def delay_next(
        self, method: str, seconds: float, times: int = 1, *, drop: bool = False
    ) -> None:
        """Delays the answer to trigger client timeouts.

        The call is still carried out (and recorded) before the pause, as Telegram may deliver
        a message whose answer never arrives. With ``drop=True`` it is not carried out and the
        late answer is 504 Gateway Timeout.
        """
        self._delays.append(_Delay(method.lower(), seconds, times, drop))

    def enforce_flood_limits(
        self,
        global_per_second: int = 30,
        private_per_second: int = 1,
        group_per_minute: int = 20,
        paid_per_second: int = 1000,
    ) -> None:
        """Switches on sliding-window flood control for send* methods (429 + retry_after).

        `paid_per_second` replaces the overall limit for messages sent with
        `allow_paid_broadcast`, as Telegram does.
        """
        self._flood = _FloodLimits(
            global_per_second, private_per_second, group_per_minute, paid_per_second
        )
        self._flood_global.clear()
        self._flood_chats.clear()

    def disable_flood_limits(self) -> None:
        """Switches flood control off again."""
        self._flood = None

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Sets what getChatMember answers for (chat, user)."""
        known = {"creator", "administrator", "member", "restricted", "left", "kicked"}
        if status not in known:
            raise ValueError(f"unknown chat member status {status!r}; use one of {known}")
        self.member_statuses[(chat_id, user_id)] = status

    # ---------------------------------------------------------------- feeding updates

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
    ) -> JSONDict:
        """Queues a user's text message; a leading ``/cmd`` gets a bot_command entity."""
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
        )

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

    # ---------------------------------------------------------------- queries for tests

    def chat_type(self, chat_id: int) -> str:
        """Chat type by Telegram's id conventions, unless overridden in ``chat_types``."""
        if chat_id in self.chat_types:
            return self.chat_types[chat_id]
        if chat_id > 0:
            return "private"
        return "supergroup" if str(chat_id).startswith("-100") else "group"

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

    def calls(self, method: str) -> list[RequestRecord]:
        """All requests to ``method`` (case-insensitive), failed ones included."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """Stored bot commands for a scope (default scope if None) and language."""
        key = (_scope_key(scope or {"type": "default"}), language_code)
        return copy.deepcopy(self._commands.get(key, []))

    async def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,
        *,
        interval: float = 0.01,
        description: str | None = None,
    ) -> T:
        """Polls ``predicate`` until truthy and returns its value; AssertionError on timeout.

        Bounded on purpose: a hanging test should fail with context, not stall the suite.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() >= deadline:
                what = description or getattr(predicate, "__qualname__", repr(predicate))
                raise AssertionError(
                    f"condition {what} not met within {timeout}s; {self._summary()}"
                )
            await asyncio.sleep(interval)

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[JSONDict]:
        """Waits until the bot has at least ``count`` live messages in ``chat_id``."""
        await self.wait_for(
            lambda: len(self.messages_to(chat_id)) >= count,
            timeout,
            description=f"{count} message(s) to chat {chat_id}",
        )
        return self.messages_to(chat_id)

    def _summary(self) -> str:
        recent = ", ".join(f"{r.method}->{r.status}" for r in self.requests[-10:])
        errors = f"; internal errors: {self.internal_errors}" if self.internal_errors else ""
        return f"{len(self.requests)} request(s), last: [{recent}]{errors}"

    # ---------------------------------------------------------------- HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        name, handler = self._methods.get(raw_method.lower(), (raw_method, None))
        if handler is None:
            return self._answer(name, {}, ApiError(404, "Not Found"))
        try:
            params = await self._read_params(request)
        except ApiError as error:
            return self._answer(name, {}, error)

        failure = self._take_failure(name, params.get("chat_id"))
        if failure is not None:
            return self._answer(name, params, failure)
        delay = self._take_delay(name)
        if delay is not None and delay.drop:
            await self._pause(delay.seconds)
            return self._answer(name, params, ApiError(504, "Gateway Timeout"))

        outcome: Any
        try:
            outcome = await handler(_Call(name, params, request))
        except ApiError as error:
            outcome = error
        except Exception as exc:  # a bug in the double: answer 500 and make it visible
            self.internal_errors.append(f"{name}: {exc!r}")
            outcome = ApiError(500, f"Internal Server Error: {exc!r}")
        response = self._answer(name, params, outcome)
        if delay is not None:
            await self._pause(delay.seconds)
        return response

    def _answer(self, method: str, params: JSONDict, outcome: Any) -> web.Response:
        if isinstance(outcome, ApiError):
            status, body = outcome.status, outcome.payload()
        else:
            status, body = 200, {"ok": True, "result": outcome}
        self.requests.append(RequestRecord(method, params, status, body, self._clock()))
        return web.json_response(body, status=status)

    async def _pause(self, seconds: float) -> None:
        """Sleeps, but wakes at once when the double stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def _read_params(self, request: web.Request) -> JSONDict:
        raw: JSONDict = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise _bad_request("can't parse JSON encoded request parameters") from exc
                if not isinstance(body, dict):
                    raise _bad_request("JSON object expected")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        raw[key] = UploadedFile(
                            key, value.filename, value.content_type, value.file.read()
                        )
                    elif isinstance(value, bytes | bytearray):
                        raw[key] = bytes(value).decode("utf-8", "replace")
                    else:
                        raw[key] = value
        return {key: _decode_param(key, value) for key, value in raw.items()}

    def _take_failure(self, method: str, chat_id: object) -> ApiError | None:
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            return ApiError(failure.status, failure.description, failure.parameters)
        return None

    def _take_delay(self, method: str) -> _Delay | None:
        for delay in self._delays:
            if delay.method == method.lower():
                delay.remaining -= 1
                if delay.remaining <= 0:
                    self._delays.remove(delay)
                return delay
        return None

    async def _handle_served_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.served_hits[path] = self.served_hits.get(path, 0) + 1
        if self.served_delay:
            await asyncio.sleep(self.served_delay)
        if path not in self._served:
            return web.Response(status=404, text="Not Found")
        body, content_type = self._served[path]
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        file_id = self._file_paths.get(request.match_info["path"])
        photo = self._photos.get(file_id) if file_id else None
        if photo is None or photo.data is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=photo.data, content_type="image/jpeg")

    # ---------------------------------------------------------------- shared checks

    def _target_chat(self, params: JSONDict) -> int:
        """Resolves chat_id and applies the configured chat faults, in Telegram's order."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        if isinstance(raw, str):
            resolved = self.chat_usernames.get(raw.removeprefix("@").lower())
            if resolved is None:
                raise _bad_request("chat not found")
            raw = resolved
        chat_id = int(raw)
        if chat_id in self.migrations:
            raise _bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrations[chat_id]},
            )
        if chat_id in self.missing_chats:
            raise _bad_request("chat not found")
        if chat_id in self.forbidden_chats:
            raise ApiError(403, self._forbidden_description(chat_id))
        return chat_id

    def _forbidden_description(self, chat_id: int) -> str:
        kind = self.chat_type(chat_id)
        if kind == "private":
            return "Forbidden: bot was blocked by the user"
        if kind == "channel":
            return "Forbidden: bot is not a member of the channel chat"
        return f"Forbidden: bot was kicked from the {kind} chat"

    def _check_flood(self, chat_id: int, params: JSONDict) -> None:
        """Sliding windows like Telegram's limits; counts only sends that go through."""
        limits = self._flood
        if limits is None:
            return
        now = self._clock()
        paid = params.get("allow_paid_broadcast")
        global_limit = limits.paid_per_second if paid else limits.global_per_second
        if self.chat_type(chat_id) == "private":
            window, chat_limit = 1.0, limits.private_per_second
        else:
            window, chat_limit = 60.0, limits.group_per_minute
        per_chat = self._flood_chats.setdefault(chat_id, deque())
        waits: list[float] = []
        for stamps, span, limit in (
            (self._flood_global, 1.0, global_limit),
            (per_chat, window, chat_limit),
        ):
            while stamps and stamps[0] <= now - span:
                stamps.popleft()
            if len(stamps) >= limit:
                waits.append(stamps[-limit] + span - now)
        if waits:
            self.flood_errors += 1
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        self._flood_global.append(now)
        per_chat.append(now)

    def _format(
        self, raw: object, parse_mode: object, entities: object
    ) -> tuple[str, list[JSONDict]]:
        """Visible text and entities for text/caption, or a Telegram-style 400."""
        text = "" if raw is None else str(raw)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _bad_request("text must be encoded in UTF-8") from exc
        mode = str(parse_mode or "").lower()
        if mode == "html":
            try:
                return html_to_text(text)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        if mode not in ("", "markdown", "markdownv2"):
            raise _bad_request(f"unsupported parse_mode {parse_mode}")
        # Markdown modes are not validated by the double; the text is stored as sent.
        given = [dict(e) for e in entities] if isinstance(entities, list) else []
        return _trim(text, given)

    def _caption(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        caption, entities = self._format(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        if utf16_len(caption) > CAPTION_LIMIT:
            raise _bad_request("message caption is too long")
        return caption, entities

    def _reply_markup(self, params: JSONDict) -> JSONDict | None:
        """Validates an inline keyboard like Telegram; returns what a Message would carry."""
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # reply keyboards / remove / force_reply are not echoed in Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard markup: rows must be arrays")
        if any(len(row) > 8 for row in rows) or sum(len(row) for row in rows) > 100:
            raise _bad_request("reply markup is too long")
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
            raise _bad_request("message to be replied not found")
        snapshot = copy.deepcopy(target)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _message_for_edit(self, params: JSONDict) -> tuple[int, JSONDict]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._live.get((chat_id, int(message_id)))
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat_id, message

    # ---------------------------------------------------------------- messages and files

    def _allocate_message_id(self, chat_id: int) -> int:
        next_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = next_id
        return next_id

    def _chat_object(self, chat_id: int) -> JSONDict:
        kind = self.chat_type(chat_id)
        chat: JSONDict = {"id": chat_id, "type": kind}
        if kind == "private":
            user = self._users.get(chat_id, {})
            chat["first_name"] = user.get("first_name", "Test")
            if "username" in user:
                chat["username"] = user["username"]
        else:
            chat["title"] = self.chat_titles.get(chat_id, f"Test {kind} {chat_id}")
            for username, known_id in self.chat_usernames.items():
                if known_id == chat_id:
                    chat["username"] = username
                    break
        return chat

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

    def _check_photo(
        self, value: object, params: JSONDict
    ) -> tuple[list[JSONDict] | None, bytes | None]:
        """Resolves a photo input without side effects: (existing sizes, new bytes)."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad_request("file must be non-empty")
            if len(value.data) > PHOTO_UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            if self.check_image_bytes and not _looks_like_image(value.data):
                raise _bad_request("IMAGE_PROCESS_FAILED")
            return None, value.data
        if not isinstance(value, str) or not value:
            raise _bad_request("there is no photo in the request")
        if value in self._photos:
            return self._photos[value].sizes, None
        if value.startswith(("http://", "https://")):
            return None, self._fetch_photo_url(value)
        raise _bad_request("wrong file identifier/HTTP URL specified")

    def _fetch_photo_url(self, url: str) -> bytes | None:
        """Emulates Telegram fetching a photo URL; only loopback /files/ URLs are real."""
        if url in self.unfetchable_urls or "unfetchable" in url:
            raise _bad_request("wrong type of the web page content")
        prefix = f"{self.url}/files/"
        if not url.startswith(prefix):
            return None  # a public URL: assume Telegram fetched an image
        key = url.removeprefix(prefix).split("?", 1)[0]
        self.served_hits[key] = self.served_hits.get(key, 0) + 1
        if key not in self._served:
            raise _bad_request("failed to get HTTP URL content")
        body, content_type = self._served[key]
        if not content_type.startswith("image/") or len(body) > PHOTO_URL_LIMIT:
            raise _bad_request("wrong type of the web page content")
        if self.check_image_bytes and not _looks_like_image(body):
            raise _bad_request("IMAGE_PROCESS_FAILED")
        return body

    def _photo_sizes(self, existing: list[JSONDict] | None, data: bytes | None) -> list[JSONDict]:
        """Reuses known sizes or mints new file ids (one per size, like Telegram)."""
        if existing is not None:
            return copy.deepcopy(existing)
        number = next(self._ids)
        sizes: list[JSONDict] = []
        for index, (width, height) in enumerate(_PHOTO_SIZES):
            size: JSONDict = {
                "file_id": f"AgACAgIAAxkDdbl{number:06d}{index}",
                "file_unique_id": f"AQADdbl{number:06d}{index}",
                "width": width,
                "height": height,
            }
            if data is not None:
                size["file_size"] = len(data)
            sizes.append(size)
        stored = _StoredPhoto(sizes, data)
        for size in sizes:
            self._photos[size["file_id"]] = stored
        return copy.deepcopy(sizes)

    # ---------------------------------------------------------------- API methods

    async def _get_me(self, call: _Call) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, call: _Call) -> bool:
        """Records the webhook; the tests post updates to it themselves."""
        url = call.params.get("url")
        if not isinstance(url, str) or not url:
            raise _bad_request("bad webhook: an HTTPS URL must be provided for webhook")
        secret = call.params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("bad webhook: secret token contains unallowed characters")
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = dict(call.params)
        return True

    async def _delete_webhook(self, call: _Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        return True

    async def _get_webhook_info(self, call: _Call) -> JSONDict:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _set_my_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be 1-256 characters")
        scope, language = self._commands_key(call.params)
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        self._commands[(_scope_key(scope), language)] = stored
        self.command_history.append(
            CommandsRecord("set", scope, language, copy.deepcopy(stored), self._clock())
        )
        return True

    async def _delete_my_commands(self, call: _Call) -> bool:
        scope, language = self._commands_key(call.params)
        self._commands.pop((_scope_key(scope), language), None)
        self.command_history.append(CommandsRecord("delete", scope, language, [], self._clock()))
        return True

    async def _get_my_commands(self, call: _Call) -> list[JSONDict]:
        scope, language = self._commands_key(call.params)
        return copy.deepcopy(self._commands.get((_scope_key(scope), language), []))

    def _commands_key(self, params: JSONDict) -> tuple[JSONDict, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        return scope, str(params.get("language_code") or "")

    async def _get_updates(self, call: _Call) -> list[JSONDict]:
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

    async def _send_message(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id = self._target_chat(params)
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise _bad_request("message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise _bad_request("message is too long")
        markup = self._reply_markup(params)
        reply_to = self._reply_target(chat_id, params)
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

    async def _send_photo(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id = self._target_chat(params)
        caption, entities = self._caption(params)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(chat_id, params)
        existing, data = self._check_photo(params.get("photo"), params)
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
        self, call: _Call, chat_id: int, message: JSONDict, changes: JSONDict
    ) -> JSONDict:
        """Applies an edit unless nothing changes (Telegram's "message is not modified")."""
        markup = self._reply_markup(call.params)
        changes = {**changes, "reply_markup": markup}
        current = {key: message.get(key) for key in changes}
        wanted = {key: value or None for key, value in changes.items()}
        if {k: v or None for k, v in current.items()} == wanted:
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        for key, value in wanted.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return self._record(call.method, chat_id, call.params, message)

    async def _edit_message_text(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id, message = self._message_for_edit(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise _bad_request("message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise _bad_request("message is too long")
        changes: JSONDict = {"text": text, "entities": entities}
        if isinstance(params.get("link_preview_options"), dict):
            changes["link_preview_options"] = params["link_preview_options"]
        return self._apply_edit(call, chat_id, message, changes)

    async def _edit_message_caption(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id, message = self._message_for_edit(params)
        if "photo" not in message:
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        changes: JSONDict = {"caption": caption, "caption_entities": entities}
        return self._apply_edit(call, chat_id, message, changes)

    async def _edit_message_media(self, call: _Call) -> JSONDict:
        params = call.params
        chat_id, message = self._message_for_edit(params)
        media = params.get("media")
        if not isinstance(media, dict):
            raise _bad_request("can't parse InputMedia JSON object")
        if media.get("type") != "photo":
            raise _bad_request("the double supports only photo media in editMessageMedia")
        caption, entities = self._caption(
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

    async def _edit_message_reply_markup(self, call: _Call) -> JSONDict:
        chat_id, message = self._message_for_edit(call.params)
        return self._apply_edit(call, chat_id, message, {})

    async def _delete_message(self, call: _Call) -> bool:
        params = call.params
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._live.pop((chat_id, int(message_id)), None)
        if message is None:
            raise _bad_request("message to delete not found")
        self._record(call.method, chat_id, params, message)
        return True

    async def _answer_callback_query(self, call: _Call) -> bool:
        query_id = str(call.params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(dict(call.params))
        return True

    async def _get_chat(self, call: _Call) -> JSONDict:
        chat_id = self._target_chat(call.params)
        return {
            **self._chat_object(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, call: _Call) -> JSONDict:
        chat_id = self._target_chat(call.params)
        user_id = call.params.get("user_id")
        if not isinstance(user_id, int):
            raise _bad_request("invalid user_id specified")
        if user_id == self.bot_user["id"]:
            user: JSONDict = dict(self.bot_user)
        else:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": "Test",
            }
        return _chat_member(self.member_statuses.get((chat_id, user_id), "member"), user)

    async def _get_file(self, call: _Call) -> JSONDict:
        file_id = str(call.params.get("file_id", ""))
        photo = self._photos.get(file_id)
        if photo is None:
            raise _bad_request("invalid file_id")
        size = next(s for s in photo.sizes if s["file_id"] == file_id)
        path = f"photos/{size['file_unique_id']}.jpg"
        self._file_paths[path] = file_id
        result: JSONDict = {
            "file_id": file_id,
            "file_unique_id": size["file_unique_id"],
            "file_path": path,
        }
        if photo.data is not None:
            result["file_size"] = len(photo.data)
        return result


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _decode_param(name: str, value: object) -> object:
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
            raise _bad_request(f"invalid {name} specified") from exc
        what = "reply keyboard markup" if name == "reply_markup" else name
        raise _bad_request(f"can't parse {what} JSON object") from exc
    if name in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


def _scope_key(scope: JSONDict) -> str:
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _check_button(button: object) -> None:
    """One inline button: text plus exactly one action; callback_data 1-64 bytes."""
    if not isinstance(button, dict):
        raise _bad_request("can't parse inline keyboard button: object expected")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise _bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise _bad_request(f"can't parse inline keyboard button: more than one action {actions}")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            raise _bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise _bad_request("BUTTON_URL_INVALID")


def _chat_member(status: str, user: JSONDict) -> JSONDict:
    """A ChatMember dict with every field PTB 22.8 requires for that status."""
    member: JSONDict = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
        )
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "restricted":
        member.update(
            is_member=True,
            until_date=0,
            can_edit_tag=False,
            **dict.fromkeys(
                (
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_send_messages",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_manage_topics",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_react_to_messages",  # PTB 22.8 raises TypeError without it
                ),
                False,
            ),
        )
    return member
