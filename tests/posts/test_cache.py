"""The cache of posts already read: exact round trips, and never a stale or fatal entry."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.posts import Category, Post, PostCache, PostLibrary, Run, parse_post, read_post
from bot.posts.cache import cache_key, dump_post, load_post, reading_rules
from tests.helpers import SEED, WritePost

CONTENT = Path(__file__).resolve().parents[2] / "content"

runs = st.builds(
    Run,
    text=st.text(min_size=1),
    bold=st.booleans(),
    italic=st.booleans(),
    strike=st.booleans(),
    code=st.booleans(),
    href=st.none() | st.just("https://example.org/a?b=1&c=ü"),
)
optional_text = st.none() | st.text()


@settings(max_examples=100)
@given(
    title=st.text(),
    summary=st.lists(runs, max_size=4).map(tuple),
    moment=st.datetimes(timezones=st.just(UTC) | st.just(timezone(timedelta(hours=7)))),
    categories=st.lists(st.builds(Category, st.text(), st.text()), max_size=3).map(tuple),
    url=optional_text,
    language=optional_text,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_any_post_comes_back_exactly(
    title: str,
    summary: tuple[Run, ...],
    moment: datetime,
    categories: tuple[Category, ...],
    url: str | None,
    language: str | None,
    flags: tuple[bool, bool, bool],
) -> None:
    published, retracted, breaking = flags
    post = Post(
        id="a-story",
        path=Path("content/a-story.md"),
        title=title,
        summary=summary,
        date=moment,
        categories=categories,
        url=url,
        image=url,
        language=language,
        published=published,
        retracted=retracted,
        breaking=breaking,
        photo_id=language,
        digest="d" * 64,
    )
    again = load_post(post.path, dump_post(post))
    assert again == post
    assert again.date.utcoffset() == moment.utcoffset()


def test_the_seed_post_and_the_sample_content_come_back_exactly() -> None:
    library = PostLibrary(CONTENT)  # the flat posts and the Jekyll site's
    library.scan()
    for post in [read_post(SEED), *library.posts]:
        assert load_post(post.path, dump_post(post)) == post, post.path
    warned = replace(library.posts[0], has_time=False, warnings=("a date from the file name",))
    assert load_post(warned.path, dump_post(warned)) == warned


def test_a_restart_reads_from_the_cache_and_an_edit_is_read_again(
    tmp_path: Path, content: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_post("one.md", title="First headline")
    write_post("two.md", title="Second headline")
    cache_file = tmp_path / "posts-cache.sqlite3"
    first = PostLibrary(content, cache=PostCache(cache_file))
    first.scan()

    parsed: list[Path] = []
    real_parse = parse_post

    def counting_parse(path: Path, raw: bytes) -> Post:
        parsed.append(path)
        return real_parse(path, raw)

    monkeypatch.setattr("bot.posts.library.parse_post", counting_parse)
    restarted = PostLibrary(content, cache=PostCache(cache_file))
    restarted.scan()
    assert parsed == []
    assert restarted.posts == first.posts

    write_post("two.md", title="Second headline, corrected")
    again = PostLibrary(content, cache=PostCache(cache_file))
    again.scan()
    assert [p.name for p in parsed] == ["two.md"]
    assert {p.title for p in again.posts} == {"First headline", "Second headline, corrected"}


def test_entries_of_files_gone_are_forgotten_at_the_next_start(
    tmp_path: Path, content: Path, write_post: WritePost
) -> None:
    cache_file = tmp_path / "posts-cache.sqlite3"
    write_post("one.md")
    doomed = write_post("two.md")
    cache = PostCache(cache_file)
    PostLibrary(content, cache=cache).scan()
    cache.close()
    doomed.unlink()
    cache = PostCache(cache_file)
    PostLibrary(content, cache=cache).scan()
    cache.close()

    with sqlite3.connect(cache_file) as connection:
        (count,) = connection.execute("SELECT count(*) FROM posts").fetchone()
    assert count == 1


def test_a_corrupt_cache_is_reported_and_every_post_still_loads(
    tmp_path: Path, content: Path, write_post: WritePost, caplog: pytest.LogCaptureFixture
) -> None:
    write_post("one.md", title="Still here")
    cache_file = tmp_path / "posts-cache.sqlite3"
    cache_file.write_bytes(b"this is not an SQLite database" * 100)
    caplog.set_level(logging.WARNING)
    library = PostLibrary(content, cache=PostCache(cache_file))
    library.scan()
    assert [p.title for p in library.posts] == ["Still here"]
    assert "post cache unusable" in caplog.text


# --- the key ------------------------------------------------------------------------------------

POSTS_PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "posts"


def edited(name: str, read: list[Path]) -> Callable[[Path], bytes]:
    """A source reader that sees `name` (one module of the package) with a line added to it."""

    def read_source(path: Path) -> bytes:
        read.append(path)
        source = path.read_bytes()
        return source + b"\n# an edit\n" if path.name == name else source

    return read_source


def test_the_key_follows_the_reading_rules_and_not_the_library() -> None:
    raw = SEED.read_bytes()
    read: list[Path] = []
    as_installed = cache_key(SEED, raw)
    assert cache_key(SEED, raw, reading_rules(edited("none.py", read))) == as_installed
    assert {path.resolve() for path in read} == {
        POSTS_PACKAGE / "parse.py",
        POSTS_PACKAGE / "model.py",
        POSTS_PACKAGE / "limits.py",
        POSTS_PACKAGE / "tidy.py",
        POSTS_PACKAGE / "site.py",
        *(POSTS_PACKAGE / "jekyll").glob("*.py"),
    }

    assert cache_key(SEED, raw, reading_rules(edited("library.py", []))) == as_installed
    assert cache_key(SEED, raw, reading_rules(edited("cache.py", []))) == as_installed
    assert cache_key(SEED, raw, reading_rules(edited("parse.py", []))) != as_installed
    assert cache_key(SEED, raw, reading_rules(edited("model.py", []))) != as_installed
    assert cache_key(SEED, raw, reading_rules(edited("limits.py", []))) != as_installed
    assert cache_key(SEED, raw, reading_rules(edited("tidy.py", []))) != as_installed
    assert cache_key(SEED, raw, reading_rules(edited("site.py", []))) != as_installed
    assert cache_key(SEED, raw, reading_rules(edited("permalinks.py", []))) != as_installed


def test_the_key_follows_the_file_path_and_bytes() -> None:
    raw = SEED.read_bytes()
    key = cache_key(SEED, raw)
    assert cache_key(SEED, raw) == key
    assert cache_key(SEED.with_name("elsewhere.md"), raw) != key
    assert cache_key(SEED, raw + b"\n") != key


def test_an_entry_read_under_other_rules_is_never_recalled(
    tmp_path: Path, content: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_post("one.md", title="Kept under the old rules")
    cache_file = tmp_path / "posts-cache.sqlite3"
    cache = PostCache(cache_file)
    PostLibrary(content, cache=cache).scan()
    cache.close()
    assert PostCache(cache_file).recall(path, path.read_bytes())[1] is not None

    new_rules = reading_rules(edited("parse.py", []))
    monkeypatch.setattr(
        "bot.posts.cache.cache_key",
        lambda path, raw, site=b"": cache_key(path, raw, new_rules, site),
    )
    assert PostCache(cache_file).recall(path, path.read_bytes())[1] is None
