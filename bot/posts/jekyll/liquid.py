"""Liquid in posts: rendered where newsbot can, removed where it cannot, never shown to readers.

Jekyll renders every post through Liquid before Markdown, so authors write `{{ site.baseurl }}`,
`{% assign v = "1.2" %}`, `{{ v }}`, `{% post_url 2014-09-08-hello %}` and tags of plugins
newsbot does not have (`{% include figure.html %}`, `{% youtube id %}`). This module renders the
text with python-liquid, as Jekyll would with the site's `site` and the post's `page`:

- `site.url`, `site.baseurl` and every other `_config.yml` setting; the `relative_url`,
  `absolute_url`, `slugify` and escaping filters of Jekyll;
- `{% highlight lang %}` becomes a fenced code block, as Jekyll renders it;
- `{% post_url name %}` and `{% link path %}` become the other post's address when the caller
  knows it (`post_urls`), else nothing;
- variables nobody defined, unknown filters and the tags of plugins render as nothing (Liquid's
  lax mode: `{% include %}` is removed, a plugin's block keeps its inner text);
- text Liquid cannot parse at all (an unclosed `{{`) has every Liquid construct stripped instead.

Rendering is bounded (loop iterations, output size, nesting), so a post cannot make newsbot
loop or fill memory. `{% raw %}` text stays as written, as on the site.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, quote_plus

from liquid import Environment, Mode
from liquid.exceptions import LiquidError
from liquid.filter import with_context

from .config import SiteConfig
from .slugs import slugify
from .urls import absolute_url, relative_url

_CONFIG_KEY = "@newsbot_site_config"  # not a Liquid identifier, so templates cannot read it
_TAG = re.compile(r"{%-?\s*(\w+)\s*(.*?)\s*-?%}", re.DOTALL)
_RAW_BLOCK = re.compile(r"{%-?\s*raw\s*-?%}.*?{%-?\s*endraw\s*-?%}", re.DOTALL)
_COMMENT_BLOCK = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.DOTALL)
_OUTPUT = re.compile(r"{{.*?}}", re.DOTALL)
_UNCLOSED = re.compile(r"{[{%][^\n]*")
_REMOVED_TAGS = frozenset({"include", "include_relative", "render", "include_cached"})


class _Environment(Environment):
    """Liquid as Jekyll configures it, with limits that keep one post from stalling newsbot."""

    loop_iteration_limit = 10_000
    output_stream_limit = 1_000_000
    local_namespace_limit = 100_000
    context_depth_limit = 20


def has_liquid(text: str) -> bool:
    """Whether Jekyll would run `text` through Liquid (it holds `{{` or `{%`)."""
    return "{{" in text or "{%" in text


def render_liquid(
    text: str,
    config: SiteConfig,
    page: Mapping[str, Any] | None = None,
    *,
    post_urls: Mapping[str, str] | None = None,
) -> str:
    """`text` rendered as Jekyll would render it in a post, with what newsbot cannot render
    removed.

    `page` is the post's front matter plus what Jekyll adds (`url`, `date`...). `post_urls`
    maps other posts' names ("2014-09-08-hello") and site paths ("_posts/2014-09-08-hello.md")
    to their addresses within the site, for `{% post_url %}` and `{% link %}`.
    """
    if not has_liquid(text):
        return text
    prepared = _outside_raw(text, lambda part: _prepare_tags(part, config, post_urls or {}))
    try:
        template = _ENVIRONMENT.from_string(prepared)
        return template.render(site=site_variables(config), page=dict(page or {}), **{
            _CONFIG_KEY: config
        })  # fmt: skip
    except (LiquidError, RecursionError, ValueError, TypeError):
        return strip_liquid(prepared)


def strip_liquid(text: str) -> str:
    """`text` without any Liquid: comments go with their content, `raw` keeps its content,
    every other tag and output is removed."""
    if not has_liquid(text):
        return text
    kept: list[str] = []

    def keep_raw(found: re.Match[str]) -> str:
        inner = re.sub(r"^{%-?\s*raw\s*-?%}|{%-?\s*endraw\s*-?%}$", "", found[0])
        kept.append(inner)
        return f"\x00{len(kept) - 1}\x00"

    text = _RAW_BLOCK.sub(keep_raw, text)
    text = _COMMENT_BLOCK.sub("", text)
    text = _TAG.sub("", text)
    text = _OUTPUT.sub("", text)
    text = _UNCLOSED.sub("", text)
    return re.sub("\x00([0-9]+)\x00", lambda found: kept[int(found[1])], text)


def site_variables(config: SiteConfig) -> dict[str, Any]:
    """Liquid's `site`: the configuration as written, with `url` and `baseurl` as newsbot
    reads them (a supplied address stands in for a missing `url`)."""
    return {**config.raw, "url": config.url, "baseurl": config.baseurl, "title": config.title}


def _outside_raw(text: str, change: Any) -> str:
    """`text` with `change` applied everywhere but inside `{% raw %}` blocks."""
    out: list[str] = []
    position = 0
    for found in _RAW_BLOCK.finditer(text):
        out.append(change(text[position : found.start()]))
        out.append(found[0])
        position = found.end()
    out.append(change(text[position:]))
    return "".join(out)


def _prepare_tags(text: str, config: SiteConfig, post_urls: Mapping[str, str]) -> str:
    """Jekyll's own tags turned into what they render as, before Liquid sees the text."""

    def replace(found: re.Match[str]) -> str:
        name, markup = found[1], found[2].strip()
        if name == "highlight":
            language = markup.split()[0] if markup else ""
            return f"\n```{language}\n"
        if name == "endhighlight":
            return "\n```\n"
        if name in ("post_url", "link"):
            target = post_urls.get(markup) or post_urls.get(markup.removeprefix("/"))
            return relative_url(config, target) if target else ""
        if name in _REMOVED_TAGS:
            return ""
        return found[0]

    return _TAG.sub(replace, text)


def _config(context: Any) -> SiteConfig:
    found = context.globals.get(_CONFIG_KEY)
    return found if isinstance(found, SiteConfig) else SiteConfig()


@with_context
def _relative_url(value: object, *, context: Any) -> str:
    return relative_url(_config(context), _url_text(value))


@with_context
def _absolute_url(value: object, *, context: Any) -> str:
    return absolute_url(_config(context), _url_text(value))


def _url_text(value: object) -> str:
    return "" if value is None else str(value)


def _slugify(value: object, mode: object = "default") -> str:
    return slugify("" if value is None else str(value), str(mode))


def _xml_escape(value: object) -> str:
    text = "" if value is None else str(value)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _jsonify(value: object) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _normalize_whitespace(value: object) -> str:
    return " ".join(str(value or "").split())


def _number_of_words(value: object) -> int:
    return len(str(value or "").split())


def _strip_index(value: object) -> str:
    return re.sub(r"/index\.html?$", "/", str(value or ""))


def _build_environment() -> _Environment:
    environment = _Environment(tolerance=Mode.LAX, strict_filters=False)
    for name, function in {
        "relative_url": _relative_url,
        "absolute_url": _absolute_url,
        "slugify": _slugify,
        "xml_escape": _xml_escape,
        "cgi_escape": lambda value: quote_plus(str(value or "")),
        "uri_escape": lambda value: quote(str(value or ""), safe="/:?#[]@!$&'()*+,;=%~"),
        "jsonify": _jsonify,
        "normalize_whitespace": _normalize_whitespace,
        "number_of_words": _number_of_words,
        "strip_index": _strip_index,
        "markdownify": lambda value: str(value or ""),
    }.items():
        environment.add_filter(name, function)
    return environment


_ENVIRONMENT = _build_environment()
