"""The package's imports point one way, down its data flow: model, limits, tidy, jekyll, parse,
site, cache, folder, library."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "posts"

#: What each module may import from its own package; nothing imports the package itself.
ALLOWED = {
    "model": set(),
    "limits": set(),
    "tidy": {"limits"},
    "jekyll": set(),
    "parse": {"model", "limits", "tidy"},
    "site": {"model", "limits", "tidy", "jekyll", "parse"},
    "cache": {"model", "limits", "tidy", "jekyll", "parse", "site"},
    "folder": {"jekyll", "parse"},
    "library": {"model", "jekyll", "parse", "site", "cache", "folder"},
}
#: The stages further down the data flow, and Telegram: none of them is any of posts' business.
FORBIDDEN = ("telegram", "bot.app", "bot.store", "bot.render", "bot.queue", "bot.delivery")


def imported(module: str) -> set[str]:
    """Every module `bot/posts/<module>.py` imports; a name taken from the package itself counts
    as `bot.posts.<name>`, so only its submodules may be taken that way."""
    path = PACKAGE / f"{module}.py"
    if not path.exists():  # a package of its own, such as `jekyll`: its sources together
        return set().union(*(_imported_by(found) for found in (PACKAGE / module).glob("*.py")))
    return _imported_by(path)


def _imported_by(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "bot.posts":
            names.update(f"bot.posts.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_module_of_the_package_is_placed_in_the_flow() -> None:
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert {path.stem for path in PACKAGE.glob("*.py")} | packages == {"__init__", *ALLOWED}


def test_imports_point_down_the_flow_and_never_round_in_a_cycle() -> None:
    earlier: set[str] = set()
    for module, allowed in ALLOWED.items():
        assert allowed <= earlier, module  # only modules before it in the flow: no cycle
        earlier.add(module)
        names = imported(module)
        own = {
            name.removeprefix("bot.posts.").split(".")[0]
            for name in names
            if name.startswith("bot.posts")
        }
        own.discard(module)
        assert own <= allowed, (module, own - allowed)
        for name in names:
            assert not name.startswith(FORBIDDEN), (module, name)
