"""The full-text index: terms found anywhere (Thai inside a sentence), short terms as words,
ranking, paging, replacing and removing posts, and readers' text never read as FTS5 syntax."""

from __future__ import annotations

import pytest

from bot.store import IndexedText, Store


def text(
    post_id: str, headline: str, *, body: str = "", summary: str = "", at: float = 0.0
) -> IndexedText:
    return IndexedText(post_id, f"digest-{post_id}", at, headline, summary, body)


async def test_terms_are_found_in_headline_summary_and_body_thai_included(store: Store) -> None:
    await store.index_posts(
        [
            text("a", "Flood barrier", summary="Engineers in Chiang Mai", at=1),
            text("b", "ข่าวภูมิภาค", body="ชาวบ้านเชียงใหม่เตรียมรับมือน้ำท่วม", at=2),
        ]
    )
    assert await store.search_posts(["barrier"]) == ["a"]
    assert await store.search_posts(["chiang"]) == ["a"]  # any case
    assert await store.search_posts(["น้ำท่วม"]) == ["b"]  # a word inside a Thai sentence
    assert await store.search_posts(["เชียงใหม่", "flood"]) == []  # every term must match
    assert await store.search_posts([]) == []


async def test_short_terms_match_whole_words_only(store: Store) -> None:
    await store.index_posts([text("ai", "AI forecast", at=1), text("mai", "Chiang Mai said", at=2)])
    assert await store.search_posts(["ai"]) == ["ai"]
    assert await store.search_posts(["ai", "forecast"]) == ["ai"]
    assert await store.search_posts(["ai", "said"]) == []


async def test_headline_matches_rank_first_then_newest_among_equals(store: Store) -> None:
    await store.index_posts(
        [
            text("body", "Other news", body="The harbour grows.", at=9),
            text("old", "Harbour opens", at=1),
            text("new", "Harbour opens", at=5),
            # bm25 weighs a term by how rare it is: in an archive of three, it is not.
            *(text(f"x{n}", "Unrelated", body="Rice sales.", at=n) for n in range(10)),
        ]
    )
    assert await store.search_posts(["harbour"]) == ["new", "old", "body"]
    assert await store.search_posts(["harbour"], offset=1, limit=1) == ["old"]


async def test_replacing_and_removing_posts_changes_what_is_found(store: Store) -> None:
    await store.index_posts([text("a", "Rail link opens"), text("b", "Rail fares")])
    await store.index_posts([text("a", "Bridge opens")])
    assert await store.search_posts(["rail"]) == ["b"]
    assert await store.search_posts(["bridge"]) == ["a"]
    await store.unindex_posts(["b", "never-indexed"])
    assert await store.search_posts(["rail"]) == []
    assert await store.indexed_posts() == {"a": "digest-a"}
    await store.clear_search_index()
    assert await store.search_posts(["bridge"]) == []


@pytest.mark.parametrize(
    "term",
    ['"', 'rail" OR "x', "NEAR(rail", "headline:rail", "rail*", "^rail", "(", "AND", "-rail", "'"],
)
async def test_fts5_syntax_is_searched_as_text(store: Store, term: str) -> None:
    await store.index_posts([text("a", "Rail link opens")])
    assert await store.search_posts([term]) in ([], ["a"])  # never an error
    assert await store.search_posts(['rail" OR "opens']) == []
