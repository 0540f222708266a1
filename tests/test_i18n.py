"""The message catalogues: complete, consistent, shipped, and chosen by the reader's language."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Texts,
    catalogue,
    language_for,
    placeholders,
    read_catalogue,
    texts_for,
)

LOCALES = Path(__file__).resolve().parents[1] / "bot" / "locales"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_every_catalogue_has_every_text_with_the_same_placeholders() -> None:
    english = read_catalogue(DEFAULT_LANGUAGE)
    for language in LANGUAGES:
        texts = read_catalogue(language)
        assert texts.keys() == english.keys(), language
        for key, template in texts.items():
            assert placeholders(template) == placeholders(english[key]), (language, key)
            assert template.strip(), (language, key)


def test_the_thai_catalogue_is_thai() -> None:
    english, thai = read_catalogue("en"), read_catalogue("th")
    layout_only = {"subscriptions.list_separator", "channel.line"}
    assert [k for k in english if english[k] == thai[k] and k not in layout_only] == []


def test_menu_descriptions_fit_telegrams_limit() -> None:
    for language in LANGUAGES:
        for key, text in read_catalogue(language).items():
            if key.startswith("menu."):
                assert 1 <= len(text.format(name="x" * 64)) <= 256


def test_catalogues_ship_with_the_package() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]["bot"]
    assert "locales/*.toml" in shipped
    assert {p.stem for p in LOCALES.glob("*.toml")} == set(LANGUAGES)


def test_the_readers_language_with_english_as_fallback() -> None:
    assert language_for("th") == "th"
    assert language_for("th-TH") == "th"
    assert language_for("TH_th") == "th"
    assert language_for("en-GB") == "en"
    assert language_for("de") == "en"
    assert language_for(None) == "en"
    assert texts_for("th") is catalogue("th")
    assert "สมัคร" in texts_for("th")("start.new", categories="x")


def test_a_missing_translation_falls_back_to_english() -> None:
    english = catalogue("en")
    partial = Texts("th", {"stop.done": "หยุดแล้ว"}, english)
    assert partial("stop.done") == "หยุดแล้ว"
    assert partial("stop.not_subscribed") == english("stop.not_subscribed")
    with pytest.raises(KeyError):
        english("no.such.text")
    with pytest.raises(ValueError, match="no catalogue"):
        catalogue("xx")


def test_values_are_not_templates() -> None:
    assert catalogue("en")("channel.subscribed", channel="{x}", categories="{}") == (
        "{x} now receives {}."
    )
