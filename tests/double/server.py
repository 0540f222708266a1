"""The double as a server: `TelegramDouble`, its HTTP plumbing, and waiting for the bot.

Each Bot API call goes through the same steps, in Telegram's order: decode the parameters,
answer an injected failure if one is queued, carry out the method (whose checks raise
`ApiError`), record the request with its answer, and only then pause if a delay is queued, as
Telegram may carry out a call whose answer never reaches the bot (a delay queued with
`drop=True` answers 504 instead, without carrying the call out). A bug in the double itself
is answered 500 and kept in `internal_errors`, so it shows up in the failing test's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self, TypeVar

from aiohttp import web

from tests.double.commands import CommandMenusMixin
from tests.double.files import PHOTO_UPLOAD_LIMIT
from tests.double.inline import InlineMixin
from tests.double.state import RequestRecord
from tests.double.wire import (
    ApiError,
    Call,
    JSONDict,
    UploadedFile,
    bad_request,
    decode_param,
)
from tests.helpers import eventually

T = TypeVar("T")


class TelegramDouble(InlineMixin, CommandMenusMixin):
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
        super().__init__()
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.check_image_bytes = check_image_bytes
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[Call], Awaitable[Any]]]] = {
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
                "answerInlineQuery": self._answer_inline_query,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getFile": self._get_file,
                "createForumTopic": self._create_forum_topic,
            }.items()
        }

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

    async def wait_for(
        self,
        predicate: Callable[[], T | Awaitable[T]],
        timeout: float = 5.0,
        *,
        description: str | None = None,
    ) -> T:
        """Polls ``predicate`` until truthy and returns its value; AssertionError on timeout.

        `eventually`, with the double's recent traffic added to the failure: when the bot did
        not do what a test waited for, its last requests usually say why.
        """
        what = description or getattr(predicate, "__qualname__", repr(predicate))
        try:
            return await eventually(predicate, timeout, description=f"condition {what}")
        except AssertionError as failure:
            raise AssertionError(f"{failure}; {self._summary()}") from None

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
            outcome = await handler(Call(name, params, request))
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
                    raise bad_request("can't parse JSON encoded request parameters") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON object expected")
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
        return {key: decode_param(key, value) for key, value in raw.items()}
