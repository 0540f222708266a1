"""Reading `_config.yml`: Jekyll's defaults, styles, defaults by path, and safe loading."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.errors import PostError
from bot.posts.jekyll import front_matter_defaults, is_site_root, load_config
from bot.posts.jekyll.config import PERMALINK_STYLES, config_from_mapping


def test_a_folder_without_config_is_not_a_site_and_gets_jekyll_defaults(tmp_path: Path) -> None:
    assert not is_site_root(tmp_path)
    config = load_config(tmp_path)
    assert config.permalink == PERMALINK_STYLES["date"]
    assert config.excerpt_separator == "\n\n"
    assert config.markdown_ext == (".markdown", ".mkdown", ".mkdn", ".mkd", ".md")
    assert (config.url, config.baseurl, config.zone) == ("", "", UTC)


def test_settings_are_read_and_normalised(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text(
        "url: https://example.org/\nbaseurl: blog/\npermalink: pretty\n"
        "timezone: Asia/Bangkok\nmarkdown_ext: 'md, TXT'\nexcerpt_separator: <!--more-->\n"
        "lang: th\nlanguages: [th, en]\nfuture: true\nexclude: [archive]\n"
    )
    config = load_config(tmp_path)
    assert is_site_root(tmp_path)
    assert (config.url, config.baseurl) == ("https://example.org", "/blog")
    assert config.permalink == "/:categories/:year/:month/:day/:title/"
    assert config.zone == ZoneInfo("Asia/Bangkok")
    assert config.markdown_ext == (".md", ".txt")
    assert config.excerpt_separator == "<!--more-->"
    assert (config.lang, config.languages, config.future) == ("th", ("th", "en"), True)
    assert "archive" in config.exclude and "node_modules" in config.exclude


def test_site_url_stands_in_only_when_the_config_has_none(tmp_path: Path) -> None:
    assert load_config(tmp_path, site_url="https://news.example/").url == "https://news.example"
    (tmp_path / "_config.yml").write_text("url: https://own.example\n")
    assert load_config(tmp_path, site_url="https://news.example").url == "https://own.example"


def test_an_unknown_timezone_reads_as_utc_and_an_empty_separator_stays_empty() -> None:
    config = config_from_mapping({"timezone": "Mars/Olympus", "excerpt_separator": ""})
    assert config.zone == UTC
    assert config.excerpt_separator == ""


def test_yaml_tags_cannot_run_code_and_bad_files_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text("title: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(PostError, match="malformed configuration"):
        load_config(tmp_path)
    (tmp_path / "_config.yml").write_text("- a list\n- not settings\n")
    with pytest.raises(PostError, match="not a mapping"):
        load_config(tmp_path)


def test_toml_configuration_is_read_too(tmp_path: Path) -> None:
    (tmp_path / "_config.toml").write_text('url = "https://example.org"\npermalink = "none"\n')
    assert load_config(tmp_path).permalink == "/:categories/:title:output_ext"


def test_defaults_take_the_longest_matching_scope_and_globs() -> None:
    config = config_from_mapping(
        {
            "defaults": [
                {"values": {"layout": "post", "author": "Desk"}},
                {"scope": {"path": "news"}, "values": {"author": "News desk"}},
                {"scope": {"path": "news/*/_posts"}, "values": {"tags": ["deep"]}},
                {"scope": {"path": "news", "type": "pages"}, "values": {"author": "Pages"}},
                {"scope": {"path": "news", "type": "post"}, "values": {"lang": "en"}},
                {"scope": {"path": "x"}, "values": "not a mapping"},
            ]
        }
    )
    found = front_matter_defaults(config, "news/world/_posts/2020-01-01-x.md")
    assert found == {"layout": "post", "author": "News desk", "tags": ["deep"], "lang": "en"}
    assert front_matter_defaults(config, "_posts/2020-01-01-x.md") == {
        "layout": "post",
        "author": "Desk",
    }
