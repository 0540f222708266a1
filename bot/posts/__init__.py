"""Posts: the newsroom's Jekyll post files, read into `Post` values and kept indexed.

The data flows through six modules, each importing only the ones before it:

    model     what a post is: `Post`, `Category`, `Run`, `Rejection`, and the small pure rules
              every stage relies on (`safe_url`, `category_key`, `primary_language`)
    limits    what reading one file may cost: the front matter's YAML budget, the head of a
              body that is parsed, the years a post may be dated in
    tidy      HTML made linear to read and shallow (`tidy_html`), for HTML posts and imports
    parse     where bytes become a `Post`: front matter, dates, categories, the Markdown or
              HTML body's headline, summary and lead image (`parse_post`); pure, no files
    cache     posts already read, kept between starts (`PostCache`), keyed by the file's path
              and bytes and by the reading rules alone, so editing `library` keeps it
    library   where files are found: the walk of the content folder (`post_files`), reading
              one file (`read_post`), scans and the index readers ask (`PostLibrary`); whatever
              goes wrong with one file is that file's rejection

    content folder ──post_files──▶ bytes ──parse_post, or the cache──▶ Post ──▶ PostLibrary
                                          └──▶ Rejection: the file, and one line saying why not

Nothing here knows Telegram or the database. Other modules import the names below from
`bot.posts`; the submodules are this package's own seams.
"""

from bot.posts.cache import PostCache
from bot.posts.folder import POST_SUFFIXES, post_files
from bot.posts.library import PostLibrary, ScanReport, read_post
from bot.posts.model import (
    LANGUAGE_CODE,
    Category,
    Notice,
    Post,
    Rejection,
    Run,
    category_key,
    primary_language,
    safe_url,
)
from bot.posts.parse import MAX_FILE_BYTES, parse_post
from bot.posts.tidy import tidy_html

__all__ = [
    "LANGUAGE_CODE",
    "MAX_FILE_BYTES",
    "POST_SUFFIXES",
    "Category",
    "Notice",
    "Post",
    "PostCache",
    "PostLibrary",
    "Rejection",
    "Run",
    "ScanReport",
    "category_key",
    "parse_post",
    "post_files",
    "primary_language",
    "read_post",
    "safe_url",
    "tidy_html",
]
