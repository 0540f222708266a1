"""Every setting newsbot reads, in one place, from the environment and a `.env` file.

Settings are read once at start-up; the rest of the program receives a `Settings` value
instead of looking at the environment itself, so tests can build one with plain arguments.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.store.location import PostgresUrl, location

#: What Telegram accepts as a webhook's secret token.
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: Something shaped like a bot token (`123456:ABC...`): it never belongs in TELEGRAM_API_URL.
_TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")

BOTFATHER_ADVICE = (
    "TELEGRAM_BOT_TOKEN is not set: talk to @BotFather in Telegram, send /newbot, "
    "and put the token it gives you in .env as TELEGRAM_BOT_TOKEN=..."
)


class Settings(BaseSettings):
    """newsbot's configuration. Each field's description is the README's settings table."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # `VAR=` (as Docker Compose passes an unset `${VAR:-}`) means "use the default".
        env_ignore_empty=True,
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
    site_url: str | None = Field(
        default=None,
        alias="NEWSBOT_SITE_URL",
        description="Address of the Jekyll site in NEWSBOT_CONTENT_DIR, e.g. "
        "https://news.example.org, for a `_config.yml` without `url`: cards link to the "
        "posts' permalinks under it. Not needed when `_config.yml` has `url`.",
    )
    newsroom_dir: Path | None = Field(
        default=None,
        alias="NEWSBOT_NEWSROOM_DIR",
        description="Writable folder for what editors do in Telegram: breaking items (in its "
        "`breaking/` folder) and retractions (`retractions.json`), so that the content folder "
        "can stay read-only. Not set: they are written into NEWSBOT_CONTENT_DIR.",
    )
    database: Path | PostgresUrl = Field(
        default=Path("data/newsbot.sqlite3"),
        alias="NEWSBOT_DATABASE",
        description="Where chats, subscriptions and deliveries are kept: an SQLite file (its "
        "folder is created), or a PostgreSQL database as a URL, "
        "`postgresql://user:password@host:5432/name`, which several instances can share.",
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
        description="Messages per second the bot sends overall. Telegram allows 30; above "
        "that, broadcasts are sent as paid broadcasts (up to 1000/s, billed in Telegram Stars).",
    )
    max_age_hours: float = Field(
        default=48.0,
        ge=0,
        alias="NEWSBOT_MAX_AGE_HOURS",
        description="A newly found post dated longer ago than this is archived, not pushed.",
    )
    edit_window_hours: float = Field(
        default=48.0,
        ge=0,
        alias="NEWSBOT_EDIT_WINDOW_HOURS",
        description="A post file corrected within this many hours of sending edits the "
        "messages readers already have.",
    )
    timezone: str = Field(
        default="UTC",
        alias="NEWSBOT_TIMEZONE",
        description="Time zone for dates shown in messages, e.g. Asia/Bangkok; also the default "
        "for digests and quiet hours of chats that set none (/timezone).",
    )
    share_button: bool = Field(
        default=False,
        alias="NEWSBOT_SHARE_BUTTON",
        description="Add a Share button to every card, beside Read more: it opens the bot's "
        "inline mode with that article, for the reader to post it in another chat (switch "
        "inline mode on with BotFather first).",
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
    subscribe_backlog: int = Field(
        default=1,
        ge=0,
        alias="NEWSBOT_SUBSCRIBE_BACKLOG",
        description="How many of the newest posts a chat gets right after subscribing (0: none).",
    )
    # NoDecode: the environment holds "1,2", not the JSON a set would otherwise be read as.
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(),
        alias="NEWSBOT_ADMIN_IDS",
        description="Telegram user ids of the bot's administrators, comma-separated; only "
        "they may subscribe channels.",
    )
    log_level: str = Field(
        default="INFO",
        alias="NEWSBOT_LOG_LEVEL",
        description="Logging level: DEBUG, INFO, WARNING or ERROR.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        alias="NEWSBOT_LOG_FORMAT",
        description="`text`: one key=value line per event; `json`: one JSON object per line.",
    )
    webhook_url: str | None = Field(
        default=None,
        alias="NEWSBOT_WEBHOOK_URL",
        description="Public HTTPS address Telegram sends updates to; when set, the bot uses a "
        "webhook instead of polling, serving this URL's path on NEWSBOT_LISTEN.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        alias="NEWSBOT_WEBHOOK_SECRET",
        validate_default=True,
        description="Required with a webhook: 1-256 characters of A-Z a-z 0-9 _ -; a request "
        "without it in X-Telegram-Bot-Api-Secret-Token is refused with 403.",
    )
    listen: str = Field(
        default="0.0.0.0:8080",  # every interface: in a container, Docker decides who reaches it
        alias="NEWSBOT_LISTEN",
        description="host:port the webhook server listens on; the metrics server uses the "
        "same host.",
    )
    private_image_networks: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(),
        alias="NEWSBOT_PRIVATE_IMAGE_NETWORKS",
        description="Lead images newsbot downloads itself come from public addresses only; "
        "list private networks it may use as well, comma-separated, e.g. 10.20.0.0/16 for an "
        "image server inside the newsroom.",
    )
    metrics_port: int = Field(
        default=9090,
        ge=0,
        le=65535,
        alias="NEWSBOT_METRICS_PORT",
        description="Port of /metrics (Prometheus) and /healthz, in both modes; 0 lets the "
        "system choose.",
    )
    instance: str | None = Field(
        default=None,
        max_length=100,
        alias="NEWSBOT_INSTANCE",
        description="This instance's name in logs and in the database's lease, when several "
        "instances share one database; default: the host name.",
    )
    lease_seconds: float = Field(
        default=5.0,
        ge=1.0,
        le=60.0,
        alias="NEWSBOT_LEASE_SECONDS",
        description="How long the active instance's lease lasts without a renewal: a standby "
        "takes over about this long (plus a tenth) after the active instance is gone.",
    )

    @field_validator("database", mode="before")
    @classmethod
    def _database_location(cls, value: object) -> object:
        # A URL read as a path would lose a slash of `//` and be taken for a file name.
        return location(value) if isinstance(value, str | Path | PostgresUrl) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_address(cls, value: str) -> str:
        # The message never repeats the value: a token pasted into it would reach the terminal.
        if any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("must be an address without spaces, e.g. https://api.telegram.org/bot")
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            raise ValueError("is not a valid address, e.g. https://api.telegram.org/bot") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must start with https:// (or http://) and a host name")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be a plain address: no ?query, #fragment or user:password@")
        if port == 0:
            raise ValueError("has port 0")
        if _TOKEN_SHAPE.search(value):
            raise ValueError("must not contain the bot token: newsbot adds it (…/bot, no token)")
        return value

    @field_validator("private_image_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(";", ",").split(",") if part.strip()]
        if not isinstance(value, list | tuple | set | frozenset):
            return value
        networks: set[str] = set()
        for part in value:
            try:
                networks.add(str(ipaddress.ip_network(str(part).strip(), strict=False)))
            except ValueError:
                problem = f"not a network such as 10.0.0.0/8: {str(part).strip()!r}"
                raise ValueError(problem) from None
        return frozenset(networks)

    @field_validator("newsroom_dir")
    @classmethod
    def _newsroom_beside_content(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # Inside the content folder, editors' posts would be read twice (once from each folder).
        content = info.data.get("content_dir")
        if value is not None and isinstance(content, Path):
            inside = value.resolve()
            if inside == content.resolve() or content.resolve() in inside.parents:
                raise ValueError("must be a folder outside NEWSBOT_CONTENT_DIR")
        return value

    @field_validator("site_url")
    @classmethod
    def _site_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"not an http(s):// address: {value!r}")
        return value.strip().rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("https", "http"):
            raise ValueError(f"not an http(s):// address: {value!r}")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_with_webhook(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        # Without a secret anyone who learns the address could post fake updates to the bot.
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError(
                    "is required when NEWSBOT_WEBHOOK_URL is set (make one: openssl rand -hex 32)"
                )
            return None
        if not _SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"expected host:port, e.g. 0.0.0.0:8080, not {value!r}")
        return value

    @property
    def file_url(self) -> str:
        """Where files are downloaded: Telegram's convention is `.../file/bot` beside `.../bot`."""
        base = self.telegram_api_url.rstrip("/")
        return base.removesuffix("bot") + "file/bot" if base.endswith("/bot") else base

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, int):
            return frozenset({value})
        if not isinstance(value, str):
            return value
        ids: set[int] = set()
        for part in value.replace(";", ",").split(","):
            if part.strip():
                try:
                    ids.add(int(part.strip()))
                except ValueError:
                    raise ValueError(f"not a Telegram user id: {part.strip()!r}") from None
        return frozenset(ids)

    @property
    def editors_dir(self) -> Path:
        """Where editors' breaking items are written: the newsroom folder, else the content."""
        return self.newsroom_dir or self.content_dir

    @property
    def image_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The private networks images may also be downloaded from, as network objects."""
        return tuple(ipaddress.ip_network(n) for n in sorted(self.private_image_networks))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never appear in any output: the token, the webhook secret and
        the database's password."""
        found = (self.telegram_bot_token, self.webhook_secret)
        database = self.database.secrets if isinstance(self.database, PostgresUrl) else ()
        return (*(s.get_secret_value() for s in found if s and s.get_secret_value()), *database)

    @property
    def post_cache(self) -> Path:
        """The file of posts already read (`bot/posts/cache.py`): beside an SQLite database;
        with PostgreSQL, in `data/` of the working folder (each instance keeps its own)."""
        if isinstance(self.database, PostgresUrl):
            return Path("data/newsbot.posts-cache.sqlite3")
        return self.database.with_name(self.database.stem + ".posts-cache.sqlite3")

    @property
    def zone(self) -> ZoneInfo:
        """The display time zone as an object."""
        return ZoneInfo(self.timezone)

    @property
    def instance_name(self) -> str:
        """This instance's name: NEWSBOT_INSTANCE, else the host name."""
        return self.instance or socket.gethostname()

    @property
    def listen_host(self) -> str:
        """The host part of NEWSBOT_LISTEN (brackets of an IPv6 address removed)."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def listen_port(self) -> int:
        """The port part of NEWSBOT_LISTEN."""
        return int(self.listen.rpartition(":")[2])

    @property
    def webhook_path(self) -> str:
        """The path the webhook is served at: the path of its public address."""
        return urlsplit(self.webhook_url or "").path or "/"

    def require_token(self) -> str:
        """The bot token, or a `SystemExit` that says how to get one."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise SystemExit(BOTFATHER_ADVICE)
        return self.telegram_bot_token.get_secret_value()
