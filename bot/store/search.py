"""The archive's full-text index: every search query of newsbot, and the engine-specific SQL.

The rest of newsbot sees a small interface (`SearchQueries`): index a post (`index_posts`,
which adds it or replaces its text), remove posts (`unindex_posts`), list what is indexed with
the digest it was indexed at (`indexed_posts`), forget everything (`clear_search_index`), and
find posts, one page at a time (`search_posts`). On SQLite that is FTS5; a PostgreSQL engine
implements the same methods over a `tsvector` column, and nothing outside this module changes.

On SQLite:

- `search_posts` holds one row per indexed post (its id, the digest of the file it was read
  from, its date, and its headline, summary and body as plain text); triggers keep two FTS5
  indexes over it in step, so the code writes and deletes ordinary rows only.
- `search_trigrams` (the `trigram` tokenizer) finds any run of three or more characters
  anywhere in the text. Thai is written without spaces between words, so a word-based index
  would see a whole Thai sentence as one word; trigrams find a word inside it.
- `search_words` (the `unicode61` tokenizer) finds the terms shorter than three characters,
  which trigrams cannot, as whole words ("AI", "EU", "5G").
- Every term a reader typed travels as a quoted FTS5 string, its quotes doubled, so nothing a
  reader types is read as FTS5 syntax (`AND`, `NEAR`, `*`, `:` column filters, parentheses).
- Ranking is bm25 (a headline match weighs more than a summary's, a summary's more than the
  body's), rounded so that nearly equal scores count as equal, then newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import Database

#: The shortest term the trigram index can find; shorter ones go to the word index.
TRIGRAM = 3

#: Migration 6: the index. Kept here, with every other statement that knows FTS5.
MIGRATION: tuple[str, ...] = (
    """CREATE TABLE search_posts (
        id INTEGER PRIMARY KEY,
        post_id TEXT NOT NULL UNIQUE,
        digest TEXT NOT NULL,
        published REAL NOT NULL,
        headline TEXT NOT NULL,
        summary TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE VIRTUAL TABLE search_trigrams USING fts5(headline, summary, body, "
    "content = 'search_posts', content_rowid = 'id', tokenize = 'trigram')",
    "CREATE VIRTUAL TABLE search_words USING fts5(headline, summary, body, "
    "content = 'search_posts', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2')",
    """CREATE TRIGGER search_posts_added AFTER INSERT ON search_posts BEGIN
        INSERT INTO search_trigrams (rowid, headline, summary, body)
            VALUES (new.id, new.headline, new.summary, new.body);
        INSERT INTO search_words (rowid, headline, summary, body)
            VALUES (new.id, new.headline, new.summary, new.body);
    END""",
    """CREATE TRIGGER search_posts_removed AFTER DELETE ON search_posts BEGIN
        INSERT INTO search_trigrams (search_trigrams, rowid, headline, summary, body)
            VALUES ('delete', old.id, old.headline, old.summary, old.body);
        INSERT INTO search_words (search_words, rowid, headline, summary, body)
            VALUES ('delete', old.id, old.headline, old.summary, old.body);
    END""",
)

#: bm25's weights of the headline, the summary and the body.
_WEIGHTS = "8.0, 3.0, 1.0"


@dataclass(frozen=True, slots=True)
class IndexedText:
    """What the index keeps of one post: its text, plain, and what it was read from."""

    post_id: str
    digest: str
    """The digest of the post as read (`Post.digest`): a different one means read it again."""
    published: float
    """The post's date, Unix seconds: newest first among equal matches."""
    headline: str
    summary: str
    body: str


def fts_string(term: str) -> str:
    """A term as an FTS5 string: in double quotes, its own quotes doubled, so it is text only."""
    return '"' + term.replace('"', '""') + '"'


class SearchQueries:
    """The store's queries about the archive's full-text index."""

    _db: Database

    async def indexed_posts(self) -> dict[str, str]:
        """Every indexed post id, with the digest it was indexed at."""
        rows = await self._db.rows("SELECT post_id, digest FROM search_posts")
        return {str(row[0]): str(row[1]) for row in rows}

    async def index_posts(self, texts: Sequence[IndexedText]) -> None:
        """Add posts to the index, or replace the text of those already in it, in one
        transaction."""
        if not texts:
            return
        async with self._db.transaction() as tx:
            # Deleted then added (rather than updated): the triggers take the old text out of
            # both indexes before the new text goes in.
            await tx.executemany(
                "DELETE FROM search_posts WHERE post_id = ?", [(t.post_id,) for t in texts]
            )
            await tx.executemany(
                "INSERT INTO search_posts (post_id, digest, published, headline, summary, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(t.post_id, t.digest, t.published, t.headline, t.summary, t.body) for t in texts],
            )

    async def unindex_posts(self, post_ids: Iterable[str]) -> None:
        """Remove posts from the index (ids not in it are no error)."""
        ids = [(post_id,) for post_id in post_ids]
        if not ids:
            return
        async with self._db.transaction() as tx:
            await tx.executemany("DELETE FROM search_posts WHERE post_id = ?", ids)

    async def clear_search_index(self) -> None:
        """Remove every post from the index (before a rebuild)."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM search_posts")

    async def search_posts(
        self, terms: Sequence[str], *, offset: int = 0, limit: int = 5
    ) -> list[str]:
        """Ids of the indexed posts that contain every term, best first, from `offset` on.

        Terms are matched without regard to case, anywhere in the headline, summary or body;
        a term shorter than `TRIGRAM` characters as a whole word. No terms find nothing.
        """
        long = [fts_string(t) for t in terms if len(t) >= TRIGRAM]
        short = [fts_string(t) for t in terms if len(t) < TRIGRAM]
        if not long and not short:
            return []
        # The table's name is one of two constants, never a reader's text.
        index = "search_trigrams" if long else "search_words"
        sql = (
            f"SELECT p.post_id FROM {index} JOIN search_posts AS p ON p.id = {index}.rowid "  # noqa: S608
            f"WHERE {index} MATCH ?"
        )
        params: list[object] = [" ".join(long or short)]
        if long and short:
            sql += " AND p.id IN (SELECT rowid FROM search_words WHERE search_words MATCH ?)"
            params.append(" ".join(short))
        sql += (
            f" ORDER BY round(bm25({index}, {_WEIGHTS}), 2), p.published DESC, p.post_id "
            "LIMIT ? OFFSET ?"
        )
        rows = await self._db.rows(sql, (*params, limit, offset))
        return [str(row[0]) for row in rows]
