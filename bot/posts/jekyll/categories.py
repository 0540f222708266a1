"""A post's categories, by Jekyll's rules.

Jekyll (`document.rb`) starts from the folders above `_posts` (`news/_posts/x.md` is in "news"),
adds the `categories` of the front matter defaults and of the front matter (a list, or a string
split on spaces: "world asia" is two), then the singular `category` (one name, spaces and all:
"Asia Pacific"), keeping the first of each repeated name. Every name is text as Ruby writes it,
so `category: 2013` is the category "2013" and `category: true` is "true".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._ruby import ruby_str


def post_categories(
    folder_categories: Sequence[str],
    front_matter: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """The categories Jekyll gives a post, in Jekyll's order."""
    names: list[str] = list(folder_categories)
    for layer in (defaults or {}, front_matter):
        value = layer.get("categories")
        if value is not None:
            names = _union(names, _plural(value))
    merged = {**(defaults or {}), **{k: v for k, v in front_matter.items() if v is not None}}
    # Jekyll prefers the singular key, and falls back to the plural one when it is empty.
    if merged.get("category") is not None:
        names.extend(_flatten([merged["category"]]))
    elif merged.get("categories") is not None:
        names.extend(_plural(merged["categories"]))
    return tuple(dict.fromkeys(names))


def _plural(value: object) -> list[str]:
    """`categories` as names: a string splits on whitespace, a list keeps its items."""
    if isinstance(value, str):
        return value.split()
    return _flatten(value if isinstance(value, list | tuple) else [value])


def _flatten(values: Iterable[object]) -> list[str]:
    flat: list[str] = []
    for value in values:
        if isinstance(value, list | tuple):
            flat.extend(_flatten(value))
        elif value is not None:
            flat.append(ruby_str(value))
    return flat


def _union(first: list[str], second: list[str]) -> list[str]:
    """Ruby's `Array#|`: the items of both, in order, each once."""
    return list(dict.fromkeys([*first, *second]))
