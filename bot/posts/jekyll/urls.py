"""Addresses on a Jekyll site: a post's full address, and the site paths written in posts.

Two rules, both from the web rather than from newsbot:
- Jekyll's `relative_url` and `absolute_url` filters (`filters/url_filters.rb`) put `baseurl`
  and then `url` in front of a site path: `/assets/x.jpg` -> `https://example.org/blog/assets/x.jpg`.
  Themes apply them to a post's own address and to its front matter `image`.
- A path written in a post's body (`/assets/x.jpg`, `assets/x.jpg`, `//cdn.example.org/x.jpg`)
  means what it means to a browser showing the post's page: it resolves against that page's
  address (RFC 3986), with no `baseurl` added.

Only http(s) addresses leave this module as absolute: `javascript:` and `data:` values give
None, so nothing a reader can tap runs code.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from .config import SiteConfig

_SAFE_SCHEMES = ("http", "https")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def relative_url(config: SiteConfig, path: str) -> str:
    """`path` under the site's `baseurl`, as Jekyll's `relative_url` filter gives it.

    An absolute address (with a scheme) is returned as it is.
    """
    if _has_scheme(path):
        return path
    return _normalize(_under_baseurl(config, path))


def absolute_url(config: SiteConfig, path: str) -> str:
    """`path` as a full address, as Jekyll's `absolute_url` filter gives it.

    Without a site `url` this is `relative_url`'s answer, as in Jekyll; use `page_url` when
    only an absolute http(s) address will do.
    """
    if _has_scheme(path):
        return path
    if not config.url:
        return relative_url(config, path)
    return _normalize(config.url + _under_baseurl(config, path))


def page_url(config: SiteConfig, url: str) -> str | None:
    """The absolute http(s) address of a page at site address `url` ("/2014/09/08/x.html").

    None when the site has no `url` (and none was supplied), or it is not http(s).
    """
    if not config.url:
        return None
    return safe_url(absolute_url(config, url))


def resolve(reference: str, base: str) -> str | None:
    """`reference` as a browser on the page at `base` resolves it, when that is http(s).

    `/assets/x.jpg` takes `base`'s host, `assets/x.jpg` its folder, `//cdn.example.org/x.jpg`
    its scheme; an absolute http(s) address stays as it is.
    """
    text = reference.strip()
    if not text:
        return None
    try:
        return safe_url(urljoin(base, text))
    except ValueError:
        return None


def safe_url(value: str) -> str | None:
    """`value` when it is an absolute http(s) address with a host, else None."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname:
        return None
    if _SPACE_OR_CONTROL.search(value):
        return None
    return value


def _under_baseurl(config: SiteConfig, path: str) -> str:
    """`baseurl` and `path` joined, each with a leading "/" (Jekyll's `ensure_leading_slash`)."""
    if path and not path.startswith("/"):
        path = f"/{path}"
    return config.baseurl + path


def _has_scheme(value: str) -> bool:
    """Whether Addressable would call `value` absolute: it starts with a URI scheme."""
    scheme, colon, _ = value.partition(":")
    return bool(colon) and bool(scheme) and scheme[0].isalpha() and all(
        c.isalnum() or c in "+-." for c in scheme
    ) and "/" not in scheme  # fmt: skip


def _normalize(url: str) -> str:
    """The small part of `Addressable::URI#normalize` that changes site addresses.

    Scheme and host lower-cased, default ports dropped, an empty path on a host made "/", and
    "." and ".." path segments resolved.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if parts.hostname:
        host = parts.hostname
        default = {"http": 80, "https": 443}.get(scheme)
        userinfo = netloc.rpartition("@")[0]
        netloc = host if port is None or port == default else f"{host}:{port}"
        if userinfo:
            netloc = f"{userinfo}@{netloc}"
    path = _remove_dot_segments(parts.path)
    if netloc and not path:
        path = "/"
    return urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result
