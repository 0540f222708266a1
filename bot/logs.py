"""Logging set-up: one line per event, and never a secret.

PTB puts the token in request URLs, and HTTP libraries log URLs (httpx at INFO) and put them in
their exceptions. Their loggers are turned down, and a filter on the one handler removes the
token, its secret half and the webhook's secret from everything it writes, whatever their length:
the message, its arguments, the traceback (every chained cause included) and stack dumps. What
would otherwise bypass logging and print straight to stderr (an uncaught exception in the main
thread or another one, a warning) is routed through the same handler, so the rule holds for every
line the process writes.

newsbot's own messages read `event words key=value key=value`; the formatters split them there,
so a line is logfmt (`NEWSBOT_LOG_FORMAT=text`) or one JSON object (`json`) that a log system can
filter by `chat=` or `post=` without regular expressions. Tracebacks stay on the same line.
Message bodies are never logged at INFO: events name posts and chats by id.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote

REDACTED = "<token>"
#: A `key=` that starts a field: at the start or after white space, so `?a=b` in a URL is not one.
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z_][\w.]*)=")
_RESERVED = frozenset({"time", "level", "logger", "msg", "exc"})


class RedactSecrets(logging.Filter):
    """Replace the bot token (and its secret half) and other secrets wherever they appear."""

    def __init__(self, token: str, *others: str) -> None:
        super().__init__()
        # The part after the colon is the secret: a partial copy of the token still hides it.
        candidates = {token, token.partition(":")[2], *others}
        # A URL-encoded copy (the token's colon as %3A) is the same secret.
        candidates |= {quote(c, safe="") for c in candidates}
        # Longest first, so the whole token is replaced before its secret half is looked for.
        # Every length counts: a short secret is weak, but it is still a secret.
        self._secrets = sorted((c for c in candidates if c), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `<token>`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        # Formatted here, before any formatter sees them: the record carries no secret onwards.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.redact(record.getMessage()), ()
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def fields(message: str) -> tuple[str, list[tuple[str, str]]]:
    """Split `event words key=value key=more words` into the event and its fields.

    A value runs to the next `key=`, so an error text with spaces stays whole.
    """
    keys = list(_KEY.finditer(message))
    if not keys:
        return message.strip(), []
    pairs: list[tuple[str, str]] = []
    for key, following in zip(keys, [*keys[1:], None], strict=True):
        end = following.start() if following is not None else len(message)
        pairs.append((key.group(1), message[key.end() : end].rstrip()))
    return message[: keys[0].start()].strip(), pairs


class _Line(logging.Formatter):
    """The parts every format shares: UTC time, level, logger, event, fields, traceback."""

    def parts(self, record: logging.LogRecord) -> dict[str, str]:
        event, pairs = fields(record.getMessage())
        when = datetime.fromtimestamp(record.created, UTC)
        parts = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": event,
        }
        for key, value in pairs:
            while key in parts or key in _RESERVED:
                key += "_"
            parts[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts["exc"] = record.exc_text
        if record.stack_info:
            parts["exc"] = parts.get("exc", "") + self.formatStack(record.stack_info)
        return parts


class TextFormatter(_Line):
    """logfmt: `time=… level=INFO logger=bot.app msg="newsbot started" bot=@news posts=12`."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_logfmt(value)}" for key, value in self.parts(record).items())


class JsonFormatter(_Line):
    """One JSON object per line, with the same keys as the text format."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.parts(record), ensure_ascii=False)


def _logfmt(value: str) -> str:
    if value and not any(c in value for c in ' "=\\') and value.isprintable():
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def configure(
    level: str = "INFO",
    token: str | None = None,
    *,
    fmt: str = "text",
    secrets: tuple[str, ...] = (),
) -> None:
    """Send log lines to stderr, at `level`, as `fmt` (text or json), with secrets removed.

    `secrets` are other values that must never be logged, such as the webhook's secret token.
    Uncaught exceptions and warnings become log lines too, so they pass the same filter.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    if token or secrets:
        handler.addFilter(RedactSecrets(token or "", *secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp", "httpx", "httpcore", "apscheduler", "aiosqlite", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """Report an exception nobody caught as one log line (secrets removed), not a raw traceback."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("newsbot").critical(
        "uncaught error error=%s: %s", kind.__name__, error, exc_info=(kind, error, trace)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)
