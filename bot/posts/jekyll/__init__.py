"""Jekyll's own rules, so that newsbot reads a Jekyll site exactly as Jekyll publishes it.

Pure functions over plain values, each module one rule of Jekyll 4.3, checked against a real
`jekyll build` by `tests/posts/jekyll/`:

    config        `_config.yml` -> SiteConfig (url, baseurl, permalink, timezone, defaults...)
    files         which files are posts; folder categories; the `YYYY-M-D-title.ext` name
    front_matter  where the front matter ends and the body starts
    dates         every date form Jekyll accepts, in the site's zone, with or without a time
    slugs         Jekyll's slugify and the title it makes from a file name
    permalinks    the post's address: styles, patterns, placeholders, escaping
    urls          relative_url/absolute_url, and site paths resolved as a browser would
    categories    folders above `_posts`, `category`, `categories`
    excerpt       the excerpt up to `excerpt_separator`, or the front matter's `excerpt`
    liquid        Liquid rendered where possible, removed where not
    markup        kramdown attribute lists, WordPress shortcodes, HTML in front matter text
    document      all of the above for one post: `SitePost`

Nothing here reads the network, the database or Telegram; only `config.load_config` and
`files.find_posts` touch the disk.
"""

from .categories import post_categories
from .config import DefaultSet, SiteConfig, front_matter_defaults, is_site_root, load_config
from .dates import PostDate, parse_date, post_date
from .document import SitePost, post_language, read_site_post, site_post
from .excerpt import extract_excerpt, post_excerpt
from .files import PostFile, PostName, find_posts, language_folders, parse_post_name, post_file
from .front_matter import load_front_matter, split_front_matter
from .liquid import has_liquid, render_liquid, strip_liquid
from .markup import is_template_only, plain_text, remove_attribute_lists, remove_shortcodes
from .permalinks import PermalinkParts, post_url
from .slugs import slugify, titleize_slug
from .urls import absolute_url, page_url, relative_url, resolve, safe_url

__all__ = [
    "DefaultSet",
    "PermalinkParts",
    "PostDate",
    "PostFile",
    "PostName",
    "SiteConfig",
    "SitePost",
    "absolute_url",
    "extract_excerpt",
    "find_posts",
    "front_matter_defaults",
    "has_liquid",
    "is_site_root",
    "is_template_only",
    "language_folders",
    "load_config",
    "load_front_matter",
    "page_url",
    "parse_date",
    "parse_post_name",
    "plain_text",
    "post_categories",
    "post_date",
    "post_excerpt",
    "post_file",
    "post_language",
    "post_url",
    "read_site_post",
    "relative_url",
    "remove_attribute_lists",
    "remove_shortcodes",
    "render_liquid",
    "resolve",
    "safe_url",
    "site_post",
    "slugify",
    "split_front_matter",
    "strip_liquid",
    "titleize_slug",
]
