"""The archive's full-text index: every search query of newsbot, and the engine-specific SQL.

The rest of newsbot sees a small interface (`SearchQueries`): index a post (`index_posts`,
which adds it or replaces its text), remove posts (`unindex_posts`), list what is indexed with
the digest it was indexed at (`indexed_posts`), forget everything (`clear_search_index`), and
find posts, one page at a time (`search_posts`). On SQLite that is FTS5; a PostgreSQL engine
implements the same methods over a `tsvector` column, and nothing outside this module changes.
The SQL of each engine is chosen by the database's `engine`.

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

On PostgreSQL (the same rules, found by other means):

- `search_posts` has the same columns, its text stored lower-cased by newsbot (Python's
  Unicode case folding, whatever the server's locale), and a generated `tsvector` (`words`,
  the 'simple' configuration: no stemming, no stop words) that weighs the headline A, the
  summary B and the body C, under a GIN index.
- A term of three or more characters is found anywhere in the text (Thai inside a sentence) by
  `LIKE` over the three columns joined, its `%`, `_` and backslashes escaped, backed by a `pg_trgm`
  GIN index of that expression; a shorter one as a whole word of `words`, through
  `phraseto_tsquery`, which reads its text as words and never as query syntax.
- Ranking weighs where each term was found, as bm25's weights do (headline 8, summary 3,
  body 1), then newest first.
- The migration creates the `pg_trgm` extension (trusted: any user who may create in the
  database can) unless the database has it, in whichever schema it is.

Every term is a bound parameter on both engines; only constants are formatted into the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import POSTGRESQL, SQLITE, Database

#: The shortest term the trigram index can find; shorter ones go to the word index.
TRIGRAM = 3

#: The index's own tables, which `newsbot migrate-db` leaves out: the bot rebuilds the index
#: from the content folder (an FTS5 index's shadow tables are named after it, `search_words_data`).
INDEX_TABLES = ("search_posts", "search_trigrams", "search_words")
#: Empties the index (and, through the triggers on SQLite, both FTS5 indexes).
CLEAR = "DELETE FROM search_posts"

_SQLITE_MIGRATION: tuple[str, ...] = (
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

#: The three columns as one text, as the trigram index holds it: a unit separator (which the
#: stored text never contains) between them, so no match runs from one column into the next.
_TEXT = "(headline || chr(31) || summary || chr(31) || body)"

_TRIGRAM_INDEX = (
    f"CREATE INDEX search_posts_trigrams ON search_posts USING gin ({_TEXT} %I.gin_trgm_ops)"
)

_POSTGRES_MIGRATION: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE search_posts (
        id INTEGER PRIMARY KEY,
        post_id TEXT NOT NULL UNIQUE,
        digest TEXT NOT NULL,
        published REAL NOT NULL,
        headline TEXT NOT NULL,
        summary TEXT NOT NULL,
        body TEXT NOT NULL,
        words tsvector NOT NULL GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', headline), 'A')
            || setweight(to_tsvector('simple', summary), 'B')
            || setweight(to_tsvector('simple', body), 'C')
        ) STORED
    )""",
    "CREATE INDEX search_posts_words ON search_posts USING gin (words)",
    # The operator class named with the schema the extension is in, which need not be on the
    # search path (a database shared by several newsbot schemas has the extension once).
    f"""DO $$ BEGIN
        EXECUTE format('{_TRIGRAM_INDEX}', (SELECT n.nspname FROM pg_extension AS e
            JOIN pg_namespace AS n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'));
    END $$""",  # noqa: S608 (constants only)
)

#: Migration 6: the index, each engine's own. Kept here, with every other statement that knows
#: FTS5, `tsvector` or `pg_trgm`.
MIGRATION: dict[str, tuple[str, ...]] = {SQLITE: _SQLITE_MIGRATION, POSTGRESQL: _POSTGRES_MIGRATION}

#: How much a match in the headline, the summary and the body weighs.
_WEIGHTS = (8, 3, 1)
#: SQLite: the newest matches that are ranked; a reader pages through at most 100 results.
CANDIDATES = 500
#: SQLite: where a term was found (`lower` folds ASCII letters, as the terms are folded).
_FOUND_SQLITE = tuple(
    f"instr(lower(p.{column}), ?) > 0" for column in ("headline", "summary", "body")
)
#: PostgreSQL: where a long term was found (its text a `strpos` needle), and a short term (a
#: whole word of the headline's, summary's or body's part of `words`).
_FOUND_LONG = ("strpos(headline, ?) > 0", "strpos(summary, ?) > 0", "strpos(body, ?) > 0")
_FOUND_SHORT = tuple(
    f"ts_filter(words, '{{{weight}}}') @@ phraseto_tsquery('simple', ?)" for weight in "abc"
)


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


def like_pattern(term: str) -> str:
    """A `LIKE ... ESCAPE '\\'` pattern that finds `term` anywhere, as text only."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def folded(text: str) -> str:
    """Text as PostgreSQL's index keeps and compares it: lower-cased here, so the server's
    locale does not decide what counts as the same letter; without NUL (which PostgreSQL's
    text cannot hold) or the separator of `_TEXT`."""
    return text.lower().replace("\x00", " ").replace("\x1f", " ")


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
        fold = folded if self._db.engine == POSTGRESQL else str
        async with self._db.transaction() as tx:
            # Deleted then added (rather than updated): the triggers take the old text out of
            # both indexes before the new text goes in.
            await tx.executemany(
                "DELETE FROM search_posts WHERE post_id = ?", [(t.post_id,) for t in texts]
            )
            await tx.executemany(
                "INSERT INTO search_posts (post_id, digest, published, headline, summary, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.post_id,
                        t.digest,
                        t.published,
                        fold(t.headline),
                        fold(t.summary),
                        fold(t.body),
                    )
                    for t in texts
                ],
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
            await tx.execute(CLEAR)

    async def search_posts(
        self, terms: Sequence[str], *, offset: int = 0, limit: int = 5
    ) -> list[str]:
        """Ids of the indexed posts that contain every term, best first, from `offset` on.

        Terms are matched without regard to case, anywhere in the headline, summary or body;
        a term shorter than `TRIGRAM` characters as a whole word. No terms find nothing.
        """
        long = [t for t in terms if len(t) >= TRIGRAM]
        short = [t for t in terms if 0 < len(t) < TRIGRAM]
        if not long and not short:
            return []
        search = _postgres_search if self._db.engine == POSTGRESQL else _sqlite_search
        sql, params = search(long, short)
        rows = await self._db.rows(sql, (*params, limit, offset))
        return [str(row[0]) for row in rows]


def _sqlite_search(long: Sequence[str], short: Sequence[str]) -> tuple[str, list[object]]:
    """The search on SQLite, up to `LIMIT ? OFFSET ?`: the newest `CANDIDATES` matches from
    one FTS5 index (or both), then each scored by where its terms are, as on PostgreSQL.

    FTS5 hands matches over newest first without scoring them (rows are indexed in the order
    posts were published), so a word found in most of a large archive costs a bounded read;
    ranking every match with bm25 read the whole index lists of a common word's trigrams.
    """
    # The table's name is one of two constants, never a reader's text.
    index = "search_trigrams" if long else "search_words"
    match = f"SELECT rowid AS id FROM {index} WHERE {index} MATCH ?"  # noqa: S608
    params: list[object] = [" ".join(fts_string(t) for t in (long or short))]
    if long and short:
        # `+rowid`: the rows with the short words are read once and each newest match of the
        # long terms checked against them. A plain `rowid IN` is handed to FTS5, which then
        # seeks every one of those rows in the trigram index: a second for a common word.
        match += " AND +rowid IN (SELECT rowid FROM search_words WHERE search_words MATCH ?)"
        params.append(" ".join(fts_string(t) for t in short))
    score: list[str] = []
    for term in map(folded, (*long, *short)):
        score.append(
            f"CASE WHEN {_FOUND_SQLITE[0]} THEN {_WEIGHTS[0]} ELSE 0 END "
            f"+ CASE WHEN {_FOUND_SQLITE[1]} THEN {_WEIGHTS[1]} ELSE 0 END "
            f"+ CASE WHEN NOT {_FOUND_SQLITE[0]} AND NOT {_FOUND_SQLITE[1]} THEN {_WEIGHTS[2]} "
            f"WHEN {_FOUND_SQLITE[2]} THEN {_WEIGHTS[2]} ELSE 0 END"
        )
        params.extend([term] * 5)
    sql = (  # made of constants; the terms are parameters
        f"SELECT p.post_id FROM ({match} ORDER BY rowid DESC LIMIT {CANDIDATES}) AS hits "  # noqa: S608
        f"JOIN search_posts AS p ON p.id = hits.id "
        f"ORDER BY {' + '.join(score)} DESC, p.published DESC, p.post_id LIMIT ? OFFSET ?"
    )
    return sql, params


def _postgres_search(long: Sequence[str], short: Sequence[str]) -> tuple[str, list[object]]:
    """The search on PostgreSQL, up to `LIMIT ? OFFSET ?`: every term a condition, and where
    it was found a score. The SQL is made of constants; the terms are parameters."""
    where: list[str] = []
    params: list[object] = []
    for term in map(folded, long):
        where.append(f"{_TEXT} LIKE ? ESCAPE '\\'")
        params.append(like_pattern(term))
    for term in map(folded, short):
        where.append("words @@ phraseto_tsquery('simple', ?)")
        params.append(term)
    score: list[str] = []
    for terms, (headline, summary, body) in ((long, _FOUND_LONG), (short, _FOUND_SHORT)):
        for term in map(folded, terms):
            # A matching post has the term somewhere: if not in the headline or the summary,
            # then in the body, which is then not read again (it is most of the text).
            score.append(
                f"CASE WHEN {headline} THEN {_WEIGHTS[0]} ELSE 0 END "
                f"+ CASE WHEN {summary} THEN {_WEIGHTS[1]} ELSE 0 END "
                f"+ CASE WHEN NOT ({headline}) AND NOT ({summary}) THEN {_WEIGHTS[2]} "
                f"WHEN {body} THEN {_WEIGHTS[2]} ELSE 0 END"
            )
            params.extend([term] * 5)
    sql = (
        f"SELECT post_id FROM search_posts WHERE {' AND '.join(where)} "  # noqa: S608
        f"ORDER BY {' + '.join(score)} DESC, published DESC, post_id LIMIT ? OFFSET ?"
    )
    return sql, params
