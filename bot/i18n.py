"""The bot's own texts in the readers' languages, kept in message catalogues.

Articles are published in whatever language the newsroom wrote them; everything the bot itself
says (replies, buttons, the command menu) comes from `bot/locales/<language>.toml`, one file per
language with the same keys. A reader gets the language of their Telegram app when there is a
catalogue for it, else English; a text missing from a catalogue falls back to English too, so a
half-finished translation shows English rather than an error.

TOML keeps the catalogues readable and editable by translators without tools: a section per
command, `{name}` placeholders filled by `str.format`.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

DEFAULT_LANGUAGE = "en"
#: Languages with a catalogue, the default first.
LANGUAGES = ("en", "th")


class Texts:
    """One language's catalogue: `texts("start.new", categories="World")`."""

    def __init__(
        self, language: str, messages: Mapping[str, str], fallback: Texts | None = None
    ) -> None:
        self.language = language
        self.messages = dict(messages)
        self._fallback = fallback

    def __call__(self, key: str, /, **values: object) -> str:
        """The text for `key` with its placeholders filled; English when not translated."""
        template = self.messages.get(key)
        if template is None:
            if self._fallback is None:
                raise KeyError(f"no text {key!r} in the {self.language} catalogue")
            return self._fallback(key, **values)
        return template.format(**values)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """`[start] new = "..."` becomes {"start.new": "..."}."""
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, key + "."))
        elif isinstance(value, str):
            flat[key] = value
        else:
            raise ValueError(f"catalogue entry {key!r} is not text")
    return flat


def read_catalogue(language: str) -> dict[str, str]:
    """The texts of one language, as shipped in the package."""
    source = resources.files("bot").joinpath("locales", f"{language}.toml")
    return _flatten(tomllib.loads(source.read_text(encoding="utf-8")))


@cache
def catalogue(language: str) -> Texts:
    """The catalogue of a language we have (see `LANGUAGES`), backed by English."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for {language!r}")
    fallback = None if language == DEFAULT_LANGUAGE else catalogue(DEFAULT_LANGUAGE)
    return Texts(language, read_catalogue(language), fallback)


def language_for(language_code: str | None) -> str:
    """Our language for a Telegram user's `language_code` ("th", "th-TH" -> "th")."""
    primary = (language_code or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def texts_for(language_code: str | None) -> Texts:
    """The texts to answer a user with, from their Telegram language; English by default."""
    return catalogue(language_for(language_code))


def placeholders(template: str) -> frozenset[str]:
    """The `{names}` a text expects, so catalogues can be checked against each other."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
