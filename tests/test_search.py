"""Finding articles, without Telegram: terms from a reader's words, a post's body as plain text,
keys of searches, the result list, and the index kept in step with the library."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import catalogue
from bot.posts import PostLibrary
from bot.search import (
    MOST_TERMS,
    PAGE,
    Finder,
    QueryKeys,
    read_button,
    result_list,
    search_terms,
)
from bot.search_index import INDEX_FORMAT, SearchIndex, plain_body
from bot.store import Store
from tests.helpers import WritePost

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_terms_are_trimmed_lowered_unique_and_few() -> None:
    assert search_terms("  (Flood, flood!) «Chiang» -- ") == ("flood", "chiang")
    assert search_terms("น้ำท่วม เชียงใหม่") == ("น้ำท่วม", "เชียงใหม่")  # SARA AM kept whole
    assert len(search_terms(" ".join(f"w{n}" for n in range(30)))) == MOST_TERMS
    assert search_terms("x" * 10_000) == ("x" * 100,)
    assert search_terms("*** ... ---") == ()


def test_a_body_is_indexed_as_plain_text() -> None:
    raw = (
        b'---\ntitle: "T"\n---\n# Heading\n\nSome **bold** and [a link](https://x.org/p) '
        b"and ![an image](https://x.org/i.jpg).\n\n{% include ad.html %}<div>HTML &amp; "
        b"more</div>\n\n[ref]: https://x.org/r\n"
    )
    assert plain_body(raw) == "Heading Some bold and a link and an image. HTML & more"
    assert plain_body(b"---\nx: 1\n---\n<p>Hello <b>there</b></p>", is_html=True) == "Hello there"


@pytest.mark.timeout(5)
@pytest.mark.parametrize("run", [b"<", b"{%", b"{{", b"![", b"[a](", b"<script>", b"[r]: "])
def test_a_hostile_body_is_read_in_linear_time(run: bytes) -> None:
    plain_body(b"---\nx: 1\n---\n" + run * (400_000 // len(run)))  # many starts, no ends


def test_keys_are_short_stable_and_bounded() -> None:
    keys = QueryKeys(size=2)
    first = keys.key("น้ำท่วม " * 30)
    assert len(first) == 8 and keys.key("น้ำท่วม " * 30) == first
    assert keys.words(first) == "น้ำท่วม " * 30
    keys.key("b")
    keys.key("c")
    assert keys.words(first) is None  # the oldest forgotten
    assert read_button(f"find:{first}:3") == (first, 3)
    assert read_button("find:x") is None and read_button("cat:x:1") is None


async def test_the_index_follows_the_library_and_searches_see_only_live_posts(
    store: Store, write_post: WritePost, content: Path
) -> None:
    for n in range(PAGE + 2):
        write_post(f"h{n}.md", "The harbour grows.", title=f"Harbour {n}", date=f"2026-11-2{n % 3}")
    write_post("soon.md", "A harbour soon.", title="Harbour soon", date="2026-11-26T00:00:00Z")
    library = PostLibrary(content)
    library.scan()
    index = SearchIndex(store)
    assert await index.sync(library.posts, NOW) == PAGE + 2
    assert await store.get_setting("search_index_format") == INDEX_FORMAT
    assert await index.sync(library.posts, NOW, changed=False) == 0  # nothing to do
    finder = Finder(store, library)
    page = await finder.find("Harbour", NOW)
    assert len(page.posts) == PAGE and page.more
    texts = catalogue("en")
    shown = result_list(page, texts, "k", zone=UTC)
    assert "Articles with “harbour” (1–5)" in shown.html
    assert [b.data for b in shown.buttons] == ["find:k:1"]
    second = await finder.find("harbour", NOW, page=1)
    assert len(second.posts) == 2 and not second.more

    write_post("h0.md", "The harbour grows.", title="Harbour 0", date="2026-11-20", retracted=True)
    (content / "h1.md").unlink()
    library.scan()
    assert await index.sync(library.posts, NOW) == 2
    assert {"h0", "h1"}.isdisjoint(await store.indexed_posts())
    later = NOW + timedelta(days=1)
    assert await index.sync(library.posts, later, changed=False) == 1  # "soon" came due
    assert "soon" in await store.indexed_posts()


async def test_a_restart_catches_up_with_what_changed_meanwhile(
    store: Store, write_post: WritePost, content: Path
) -> None:
    write_post("a.md", "Old words.", title="Story", date="2026-11-20")
    library = PostLibrary(content)
    library.scan()
    await SearchIndex(store).sync(library.posts, NOW)
    write_post("a.md", "New words entirely.", title="Story", date="2026-11-20")
    library.scan()
    await SearchIndex(store).sync(library.posts, NOW, changed=False)  # a fresh start
    assert await store.search_posts(["entirely"]) == ["a"]
    assert await store.search_posts(["old"]) == []
    await store.set_setting("search_index_format", "an older format")
    await store.index_posts([])  # nothing
    await SearchIndex(store).sync(library.posts, NOW, changed=False)
    assert await store.indexed_posts() == {"a": library.posts[0].digest}
