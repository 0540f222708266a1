"""Posts: the newsroom's post files and Jekyll sites, read into `Post` values and kept indexed.

The data flows through these modules and one package, each importing only the ones before it:

    model     what a post is: `Post`, `Category`, `Run`, `Rejection`, `Notice`, and the small
              pure rules every stage relies on (`safe_url`, `category_key`, `primary_language`)
    limits    what reading one file may cost: the front matter's YAML budget, the head of a
              body that is parsed, the years a post may be dated in
    tidy      HTML made linear to read and shallow (`tidy_html`), for HTML posts and imports
    jekyll    Jekyll 4.3's own rules for a site's posts (`_config.yml`, permalinks, dates,
              excerpts, Liquid), checked against the real `jekyll`
    parse     where bytes become a `Post`: front matter, dates, categories, the Markdown or
              HTML body's headline, summary and lead image (`parse_post`); pure, no files
    site      a Jekyll site's post files, and one of them as a `Post` (`read_site_file`):
              permalink, resolved image, cleaned summary; pure once the site is found
    cache     posts already read, kept between starts (`PostCache`), keyed by the file's path
              and bytes, the reading rules and the site's configuration, so editing `library`
              keeps it and editing `_config.yml` does not
    folder    where files are found: the walk of the content folder (`post_files`), which
              hands back the Jekyll sites in it, and reading one file's bytes
    library   reading one file (`read_post`), scans and the index readers ask (`PostLibrary`);
              whatever goes wrong with one file is that file's rejection

    content folder ──post_files──▶ bytes ──parse_post, or the cache──▶ Post ──▶ PostLibrary
       └─ a folder with _config.yml ──site──▶ bytes ──read_site_file──┘
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
