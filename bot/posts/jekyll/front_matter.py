"""Splitting a post file into front matter and body exactly where Jekyll splits it.

Jekyll's `Document::YAML_FRONT_MATTER_REGEXP` decides what is front matter: a first line of
`---`, then everything up to a line of `---` or `...`. Its `\\s*` around the markers also eats
blank lines, so the body starts at the first line that is not blank after the closing marker.
The body matters to the letter: Jekyll's excerpt is the body up to the first
`excerpt_separator`, so a split one blank line off would give a different excerpt.

A file without front matter is still a post in `_posts` (with no data), as in Jekyll.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from bot.errors import PostError

#: libyaml's parser when PyYAML has it (ten times faster), with the same safe constructor.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Ruby's `\s` is ASCII whitespace only; `$` is "end of a line" in Ruby and in re.MULTILINE.
_FRONT_MATTER = re.compile(
    r"\A(---[ \t\r\n\f\v]*\n.*?\n?)^((?:---|\.\.\.)[ \t\r\n\f\v]*$\n?)", re.MULTILINE | re.DOTALL
)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(the front matter's YAML, the body), or (None, the whole text) when there is none.

    The YAML keeps its opening `---` line; the body is what follows the closing line.
    """
    found = _FRONT_MATTER.match(text)
    if found is None:
        return None, text
    return found[1], text[found.end() :]


def safe_load(yaml_text: str) -> object:
    """YAML read with the safe loader: plain values only, no Python objects."""
    return yaml.load(yaml_text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader


def load_front_matter(
    source: str | None, load: Callable[[str], object] = safe_load
) -> dict[str, Any]:
    """The front matter's values, read with `load` (`yaml.safe_load` unless the caller brings
    a loader with reading budgets); {} for none or an empty block.

    Raises `PostError` when the YAML is malformed or is not a mapping of fields.
    """
    if source is None:
        return {}
    yaml_text = source.split("\n", 1)[1] if "\n" in source else ""
    try:
        data = load(yaml_text)
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PostError(f"malformed front matter: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PostError("malformed front matter: it is not a list of `field: value` lines")
    return {str(key): value for key, value in data.items()}
