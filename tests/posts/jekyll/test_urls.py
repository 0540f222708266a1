"""Site paths and full addresses: Jekyll's filters, and a browser's resolution."""

from __future__ import annotations

from bot.posts.jekyll import absolute_url, page_url, relative_url, resolve, safe_url
from bot.posts.jekyll.config import config_from_mapping

SITE = config_from_mapping({"url": "https://Example.org", "baseurl": "/blog"})
BARE = config_from_mapping({})
PAGE = "https://example.org/blog/2014/09/08/hello.html"


def test_relative_and_absolute_url_filters() -> None:
    assert relative_url(SITE, "/assets/x.jpg") == "/blog/assets/x.jpg"
    assert relative_url(SITE, "assets/x.jpg") == "/blog/assets/x.jpg"
    assert absolute_url(SITE, "/assets/x.jpg") == "https://example.org/blog/assets/x.jpg"
    assert absolute_url(SITE, "https://cdn.example.org/x.jpg") == "https://cdn.example.org/x.jpg"
    assert absolute_url(BARE, "/x/") == "/x/"
    assert absolute_url(SITE, "/a/./b/../c") == "https://example.org/blog/a/c"


def test_a_page_has_an_address_only_on_a_site_with_one() -> None:
    assert page_url(SITE, "/2014/09/08/hello.html") == PAGE
    assert page_url(BARE, "/2014/09/08/hello.html") is None


def test_site_paths_resolve_as_a_browser_on_the_page_resolves_them() -> None:
    assert resolve("/assets/x.jpg", PAGE) == "https://example.org/assets/x.jpg"
    assert resolve("assets/x.jpg", PAGE) == "https://example.org/blog/2014/09/08/assets/x.jpg"
    assert resolve("//cdn.example.org/x.jpg", PAGE) == "https://cdn.example.org/x.jpg"
    assert resolve("../up.png", PAGE) == "https://example.org/blog/2014/09/up.png"
    assert resolve("https://other.example/x", PAGE) == "https://other.example/x"


def test_only_http_addresses_come_out() -> None:
    assert resolve("javascript:alert(1)", PAGE) is None
    assert resolve("data:image/png;base64,AAAA", PAGE) is None
    assert resolve("  ", PAGE) is None
    assert safe_url("https://example.org/a b") is None
    assert safe_url("mailto:desk@example.org") is None
