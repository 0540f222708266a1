"""Every setting newsbot reads, in one place, from the environment and a `.env` file.

Settings are read once at start-up; the rest of the program receives a `Settings` value
instead of looking at the environment itself, so tests can build one with plain arguments.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BOTFATHER_ADVICE = (
    "TELEGRAM_BOT_TOKEN is not set: talk to @BotFather in Telegram, send /newbot, "
    "and put the token it gives you in .env as TELEGRAM_BOT_TOKEN=..."
)


class Settings(BaseSettings):
    """newsbot's configuration. Each field's description is the README's settings table."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None,
        alias="TELEGRAM_BOT_TOKEN",
        description="The bot's token from @BotFather. Required by `newsbot run`.",
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        alias="TELEGRAM_API_URL",
        description="Bot API base URL; point it at a local Bot API server if you run one.",
    )
    content_dir: Path = Field(
        default=Path("content"),
        alias="NEWSBOT_CONTENT_DIR",
        description="Folder of the newsroom's posts, read recursively.",
    )
    database: Path = Field(
        default=Path("data/newsbot.sqlite3"),
        alias="NEWSBOT_DATABASE",
        description="SQLite file with chats, subscriptions and deliveries; its folder is created.",
    )
    scan_seconds: float = Field(
        default=30.0,
        gt=0,
        alias="NEWSBOT_SCAN_SECONDS",
        description="How often the content folder is rescanned (file events also trigger a scan).",
    )
    rate: float = Field(
        default=30.0,
        gt=0,
        le=1000,
        alias="NEWSBOT_RATE",
        description="Messages per second the bot sends overall (Telegram allows about 30).",
    )
    max_age_hours: float = Field(
        default=48.0,
        ge=0,
        alias="NEWSBOT_MAX_AGE_HOURS",
        description="A newly found post dated longer ago than this is archived, not pushed.",
    )
    timezone: str = Field(
        default="UTC",
        alias="NEWSBOT_TIMEZONE",
        description="Time zone for dates shown in messages, e.g. Asia/Bangkok.",
    )
    site_name: str | None = Field(
        default=None,
        alias="NEWSBOT_SITE_NAME",
        description="Name shown next to the source link; default: the link's host name.",
    )
    request_timeout: float = Field(
        default=15.0,
        gt=0,
        alias="NEWSBOT_REQUEST_TIMEOUT",
        description="Seconds to wait for Telegram's answer before trying again.",
    )
    log_level: str = Field(
        default="INFO",
        alias="NEWSBOT_LOG_LEVEL",
        description="Logging level: DEBUG, INFO, WARNING or ERROR.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def file_url(self) -> str:
        """Where files are downloaded: Telegram's convention is `.../file/bot` beside `.../bot`."""
        base = self.telegram_api_url.rstrip("/")
        return base.removesuffix("bot") + "file/bot" if base.endswith("/bot") else base

    @property
    def zone(self) -> ZoneInfo:
        """The display time zone as an object."""
        return ZoneInfo(self.timezone)

    def require_token(self) -> str:
        """The bot token, or a `SystemExit` that says how to get one."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SystemExit(BOTFATHER_ADVICE)
        return self.telegram_bot_token.get_secret_value()
