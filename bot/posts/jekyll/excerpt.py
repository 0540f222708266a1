"""Jekyll's excerpt: the part of a post that stands for the whole on a list page.

Jekyll (`excerpt.rb`) takes the body up to the first `excerpt_separator` (the front matter's,
else the site's, by default a blank line: "\\n\\n"). An empty separator turns excerpts off. Link
reference definitions (`[1]: http://...`) found after the separator are appended when the
excerpt uses their label, so `[text][1]` still links; Liquid blocks cut by the separator are
closed so that the excerpt still renders. The author's own `excerpt:` in the front matter wins
over all of this.

The excerpt returned here is source (Markdown or HTML, Liquid included), the way Jekyll holds it
before rendering.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._ruby import ruby_str

#: Jekyll's `Excerpt::MKDWN_LINK_REF_REGEX`: a link reference definition line.
_LINK_DEFINITION = re.compile(r"^ {0,3}(\[[^\]]+\])(:.+)$", re.MULTILINE)
_LIQUID_TAG = re.compile(r"{%-?\s*(\w+)\s*.*?-?%}", re.DOTALL)
#: Liquid's block tags (those with an `end...`), which Jekyll closes when the excerpt cuts them.
LIQUID_BLOCKS = frozenset(
    {"capture", "case", "comment", "for", "if", "ifchanged", "raw", "tablerow", "unless",
     "highlight"}
)  # fmt: skip


def excerpt_separator(data: Mapping[str, Any], site_separator: str) -> str:
    """The separator for one post: its front matter's (or defaults'), else the site's."""
    own = data.get("excerpt_separator")
    return ruby_str(own) if own else site_separator


def extract_excerpt(body: str, separator: str) -> str:
    """Jekyll's excerpt of `body`: up to `separator`, with the link definitions it needs.

    `body` must be the body as Jekyll splits it (see `front_matter.split_front_matter`).
    An empty separator gives "" (Jekyll makes no excerpt then).
    """
    if not separator:
        return ""
    head, found, tail = body.partition(separator)
    if not found or not tail:
        return head
    if "{%" in head:
        head = _close_liquid_blocks(head)
    if "[" not in head:  # no label to define: no need to read the rest of the post
        return head
    definitions = [label + rest for label, rest in _LINK_DEFINITION.findall(tail) if label in head]
    if not definitions:
        return head
    return head + "\n\n" + "\n".join(definitions)


def post_excerpt(data: Mapping[str, Any], body: str, site_separator: str) -> tuple[str, bool]:
    """(the post's excerpt, whether the author wrote it as the front matter's `excerpt:`)."""
    own = data.get("excerpt")
    if own is not None and not isinstance(own, Mapping | list):
        return ruby_str(own), True
    return extract_excerpt(body, excerpt_separator(data, site_separator)), False


def _close_liquid_blocks(head: str) -> str:
    for name in reversed(_LIQUID_TAG.findall(head)):
        if name not in LIQUID_BLOCKS:
            continue
        if re.search(rf"{{%-?\s*end{name}.*?\s*-?%}}", head, re.DOTALL):
            continue
        head += f"\n{{% end{name} %}}"
    return head
