"""The package's shape: imports point one way, down the data flow, and only the command line
starts the whole bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
#: Modules whose only importers may be these.
ONLY_IMPORTED_BY = {"bot.app": {"bot.cli"}}
#: Modules that hold no Telegram types: the cores handlers call, and everything upstream of them.
WITHOUT_TELEGRAM = (
    "bot.posts",
    "bot.store",
    "bot.queue",
    "bot.readers",
    "bot.editors",
    "bot.subscriptions",
    "bot.scanner",
    "bot.search",
    "bot.search_index",
    "bot.progress",
    "bot.preview_page",
    "bot.compaction",
    "bot.choices",
    "bot.filters",
    "bot.quiet",
    "bot.digests",
    "bot.topics",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_imports() -> dict[str, set[str]]:
    """Every module of `bot` and the modules of `bot` it imports at run time (imports under
    `TYPE_CHECKING` are left out: they cannot form a cycle)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(BOT.rglob("*.py")):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        names: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {n for n in names if n.startswith("bot")} - {name}
    modules = set(graph)
    return {name: {n for n in targets if n in modules} for name, targets in graph.items()}


def _runtime_nodes(tree: ast.Module) -> list[ast.stmt]:
    """Statements that run on import, skipping `if TYPE_CHECKING:` blocks."""
    nodes: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
        if isinstance(node, ast.Import | ast.ImportFrom):
            nodes.append(node)
    return nodes


def test_there_is_no_import_cycle() -> None:
    graph = bot_imports()
    # A module imported by its own package's __init__ is the package's part, not a cycle.
    edges = {
        name: {t for t in targets if not name.startswith(f"{t}.")}
        for name, targets in graph.items()
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join([*path, name])
        if name in done:
            return
        for target in sorted(edges[name]):
            visit(target, (*path, name))
        done.add(name)

    for name in sorted(edges):
        visit(name, ())


@pytest.mark.parametrize("module", sorted(ONLY_IMPORTED_BY))
def test_the_running_bot_is_imported_only_by_the_command_line(module: str) -> None:
    importers = {name for name, targets in bot_imports().items() if module in targets}
    assert importers <= ONLY_IMPORTED_BY[module]


@pytest.mark.parametrize("prefix", WITHOUT_TELEGRAM)
def test_the_cores_hold_no_telegram_types(prefix: str) -> None:
    for path in sorted(BOT.rglob("*.py")):
        if not module_name(path).startswith(prefix):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_nodes(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]  # type: ignore[union-attr]
            )
            assert not any(n.split(".")[0] == "telegram" for n in names), path.name


def test_the_readme_names_every_module_and_package() -> None:
    readme = (BOT.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| module | what it owns |") :]
    table = table[: table.index("\n\n")]
    for path in sorted(BOT.iterdir()):
        if path.name.startswith("_") or path.name == "locales":
            continue
        named = f"`bot/{path.name}/`" if path.is_dir() else f"`bot/{path.name}`"
        if path.is_dir() or path.suffix == ".py":
            assert named in table, named
