"""What reading one post file may cost: the budgets that keep a hostile file from stalling a scan.

A scan reads every file of a folder that people and scripts outside newsbot write, in one pass,
so no single file may take more than a bounded share of it, whatever its bytes. Each budget here
is far above what a real post needs, and breaking one is that file's rejection, with its reason:

- The YAML front matter is at most `MAX_FRONT_MATTER` characters, nested at most
  `MAX_YAML_DEPTH` levels, and uses at most `MAX_YAML_ALIASES` aliases, which may not make it
  grow past `MAX_YAML_EXPANSION` (`BudgetedYAML`). An "alias bomb" (a kilobyte of anchors
  that expands to gigabytes) is refused before anything is built from it; PyYAML's composer is
  recursive, so the depth limit is what keeps `[[[[...` from ending in a `RecursionError`.
  Front matter that cannot come near these budgets (no alias, few levels: nearly all of it) is
  read by libyaml directly, at a tenth of the cost; the rest is weighed node by node.
- Only the head of a body is parsed (`body_head`: `BODY_HEAD`, or `HTML_HEAD` of HTML): a card
  shows a headline, one paragraph and an image, all near the top. Within it, one block's inline
  content is parsed only as far as a card could show (`INLINE_HEAD`), so inline work is linear
  and small however the file is written.
- An HTML body is nested at most `MAX_HTML_DEPTH` levels (enforced in `tidy`).
- A post's date is in `EARLIEST_YEAR`-`LATEST_YEAR` (`check_date`): Python's dates end at years
  1 and 9999, so converting a date near either end to a reader's time zone overflows, and no
  real post is dated there.

Everything here is pure and linear in its input.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from bot.errors import PostError

#: A front matter larger than this is refused before YAML sees it (PyYAML needs about 4 s a MB).
MAX_FRONT_MATTER = 64 * 1024
MAX_YAML_DEPTH = 32
MAX_YAML_ALIASES = 16
#: What the front matter may grow to once every alias is expanded: nodes plus scalar characters.
MAX_YAML_EXPANSION = 256 * 1024

#: How much of a body the headline, summary and lead image are looked for in.
BODY_HEAD = 32 * 1024
#: The same for an HTML body, before it becomes Markdown (markdownify reads about 100 KB a second).
HTML_HEAD = 16 * 1024
#: How much of one heading or paragraph is parsed for its inline formatting: twice the
#: longest text Telegram shows, room for the markup around it.
INLINE_HEAD = 8 * 1024

MAX_HTML_DEPTH = 100

EARLIEST_YEAR = 1970
LATEST_YEAR = 2099


# --- front matter ---------------------------------------------------------------------------------


class _BudgetedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting nesting and aliases as it composes the document."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise PostError(f"front matter uses more than {MAX_YAML_ALIASES} YAML aliases")
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise PostError(f"front matter is nested deeper than {MAX_YAML_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_single_node()
        if node is not None and self._aliases:
            _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past `MAX_YAML_EXPANSION`, or refer to the node
    they are inside of. Each node is weighed once (iteratively: aliases may chain deeply)."""
    weights: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            weight = 1 + sum(weights[id(child)] for child in _children(node))
            if isinstance(node, yaml.ScalarNode):
                weight += len(node.value)
            if weight > MAX_YAML_EXPANSION:
                raise PostError(
                    f"front matter's YAML aliases expand it past {MAX_YAML_EXPANSION // 1024} KB"
                )
            weights[key] = weight
            continue
        if key in weights:
            continue
        if key in open_nodes:
            raise PostError("a YAML alias in the front matter refers to itself")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


#: libyaml's safe loader when PyYAML has it: ten times faster than the one written in Python.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: A line that starts more than this many indentation or block markers deep, or this many
#: brackets in all: only then can the front matter nest near `MAX_YAML_DEPTH`.
_SHALLOW = MAX_YAML_DEPTH // 2
_DEEP_LINE = re.compile(rf"^[ \t?:-]{{{_SHALLOW},}}", re.MULTILINE)


def _surely_within_budget(fm: str) -> bool:
    """Whether the front matter cannot break a budget, whatever it holds: no alias (`*`), and
    too few indentation levels and brackets to nest `MAX_YAML_DEPTH` deep. Nearly every real
    post's is; the others are weighed node by node."""
    return (
        "*" not in fm and fm.count("[") + fm.count("{") < _SHALLOW and _DEEP_LINE.search(fm) is None
    )


class BudgetedYAML(YAMLHandler):
    """python-frontmatter's YAML handler with the budgets above."""

    def load(self, fm: str, **kwargs: object) -> Any:
        """The front matter as Python values, or `PostError` when it breaks a budget."""
        if len(fm) > MAX_FRONT_MATTER:
            raise PostError(f"front matter is larger than {MAX_FRONT_MATTER // 1024} KB")
        if _surely_within_budget(fm):
            return yaml.load(fm, Loader=_FAST_LOADER)  # noqa: S506 - a SafeLoader
        return yaml.load(fm, Loader=_BudgetedLoader)  # noqa: S506 - a SafeLoader


# --- the body -------------------------------------------------------------------------------------


def body_head(text: str, limit: int = BODY_HEAD, *, at: str = "\n") -> str:
    """The start of `text`, at most `limit` characters, cut after the last `at` when there is
    one in its second half (so a cut falls between lines, or before a tag)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(at, limit // 2, limit)
    return text[: cut + (at == "\n")] if cut > 0 else text[:limit]


def inline_head(text: str) -> tuple[str, bool]:
    """One block's inline source cut to `INLINE_HEAD` at a space, and whether it was cut."""
    if len(text) <= INLINE_HEAD:
        return text, False
    cut = text.rfind(" ", INLINE_HEAD // 2, INLINE_HEAD)
    return text[: cut if cut > 0 else INLINE_HEAD], True


# --- dates ----------------------------------------------------------------------------------------


def check_date(moment: datetime) -> datetime:
    """`moment`, or `PostError` when it is outside the years a post can be dated."""
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise PostError(
            f"date {moment.year:04d}-{moment.month:02d}-{moment.day:02d} is outside "
            f"{EARLIEST_YEAR}-{LATEST_YEAR}"
        )
    return moment
