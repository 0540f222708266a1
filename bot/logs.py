"""Logging set-up: one line per event, and never the bot token.

PTB and httpx put the token in request URLs; httpx logs those URLs at INFO. The httpx loggers are
turned down, and a filter on the handler removes the token from anything that still mentions it.
"""

from __future__ import annotations

import logging
import sys

REDACTED = "<token>"


class RedactToken(logging.Filter):
    """Replace the bot token (and its secret half) wherever it appears in a log line."""

    def __init__(self, token: str) -> None:
        super().__init__()
        # The part after the colon is the secret; a URL-encoded or partial copy still hides it.
        self._secrets = [s for s in {token, token.partition(":")[2]} if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self._secrets:
            message = message.replace(secret, REDACTED)
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        record.msg, record.args = message, ()
        return True


def configure(level: str = "INFO", token: str | None = None) -> None:
    """Send log lines to stderr, at `level`, with the token removed."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    if token:
        handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
