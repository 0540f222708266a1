"""Where the database is: an SQLite file, or a PostgreSQL server named by a `postgresql://` URL.

`NEWSBOT_DATABASE` holds either. A URL carries the server's password, so a `PostgresUrl` never
shows it: `str()` and `repr()` give the URL with the password replaced, and `secrets` lists the
forms it may take in text, for the log filter to hide. Only `dsn` is the whole URL, and only
the driver is given it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic_core import core_schema

#: The URL schemes that name a PostgreSQL server (libpq accepts both).
SCHEMES = ("postgresql", "postgres")
REDACTED = "<password>"


class PostgresUrl:
    """A PostgreSQL server and database, e.g. `postgresql://newsbot:...@db:5432/newsbot`."""

    __slots__ = ("_dsn",)

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        if parts.scheme not in SCHEMES:
            raise ValueError(f"not a postgresql:// URL: {self._hide(dsn)!r}")
        self._dsn = dsn

    @staticmethod
    def _hide(dsn: str) -> str:
        parts = urlsplit(dsn)
        if parts.password is None:
            return dsn
        netloc = parts.netloc.rpartition("@")
        user = netloc[0].partition(":")[0]
        return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{netloc[2]}"))

    @property
    def dsn(self) -> str:
        """The whole URL, password included: for the driver only."""
        return self._dsn

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password, as written in the URL and decoded: what logs must never show."""
        password = urlsplit(self._dsn).password
        if not password:
            return ()
        return tuple(dict.fromkeys((password, unquote(password))))

    def __str__(self) -> str:
        return self._hide(self._dsn)

    def __repr__(self) -> str:
        return f"PostgresUrl({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostgresUrl) and other._dsn == self._dsn

    def __hash__(self) -> int:
        return hash(self._dsn)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        # A settings field may hold one; shown (or serialised) only without its password.
        return core_schema.no_info_plain_validator_function(
            _validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )


def _validate(value: object) -> PostgresUrl:
    if isinstance(value, PostgresUrl):
        return value
    if isinstance(value, str):
        return PostgresUrl(value)
    raise ValueError("expected a postgresql:// URL")


Location = Path | PostgresUrl
"""Where a database is."""


def location(value: str | Path | PostgresUrl) -> Location:
    """A `postgresql://` (or `postgres://`) URL as a `PostgresUrl`; anything else a file path."""
    if isinstance(value, str) and urlsplit(value).scheme in SCHEMES:
        return PostgresUrl(value)
    return value if isinstance(value, PostgresUrl) else Path(value)
