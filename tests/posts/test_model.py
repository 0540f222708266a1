"""What a post is: the pure rules every stage relies on (safe links, category keys, languages)."""

from __future__ import annotations

import pytest

from bot.posts import category_key, safe_url

# --- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://ex.com/a?b=1", "https://ex.com/a?b=1"),
        ("http://ex.com", "http://ex.com"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT://ex.com/%0aalert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("/relative/path.jpg", None),
        ("https://", None),
        ("https://ex.com/a b", None),
        (42, None),
    ],
)
def test_only_http_urls_pass(value: object, expected: str | None) -> None:
    assert safe_url(value) == expected


# --- category keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Asia Pacific", "asia_pacific"),
        ("WORLD", "world"),
        ("Science & Tech!", "science_tech"),
        ("Café-Culture", "cafe_culture"),
        ("x" * 50, "x" * 32),
    ],
)
def test_category_keys_are_valid_command_names(name: str, key: str) -> None:
    assert category_key(name) == key


def test_category_without_latin_letters_gets_a_stable_key() -> None:
    key = category_key("ข่าว")
    assert key == category_key("ข่าว")
    assert key.startswith("c_") and len(key) <= 32
