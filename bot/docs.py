"""The parts of the documentation written from the code, so they cannot drift from it.

The settings table in the operations guide and the whole of `.env.example` come from the fields
of `Settings`: their variable names, defaults and descriptions. `make docs` (`python -m bot.docs`)
rewrites them; a test fails when they are out of date.

The guide lives in `README.md` once it holds the markers below, else in `docs/operations.md`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
START = "<!-- settings:start -->"
END = "<!-- settings:end -->"
GUIDES = ("README.md", "docs/operations.md")

ENV_HEADER = """\
# newsbot's settings. Copy this file to .env and fill in at least TELEGRAM_BOT_TOKEN.
# Every other line shows a setting's default; uncomment it to change it. An empty value
# (NAME=) also means the default. Generated from bot/settings.py by `make docs`.
"""
ENV_FOOTER = """\

# --- Docker Compose only ---------------------------------------------------------------------
# The folder of posts on the host, mounted read-only into the container:
# CONTENT_FOLDER=./content
# Run Telegram's own Bot API server in front of the bot (see the operations guide):
# COMPOSE_PROFILES=local-api
# (and set TELEGRAM_API_URL above to http://telegram-bot-api:8081/bot)
# TELEGRAM_API_ID=
# TELEGRAM_API_HASH=
"""


def default(field: FieldInfo) -> str:
    """A field's default as an operator would write it in `.env` (empty: not set)."""
    value = field.default
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, frozenset | set | list | tuple):
        return ",".join(str(v) for v in sorted(value))
    return str(value)


def _fields() -> list[tuple[str, FieldInfo]]:
    return [(field.alias or name.upper(), field) for name, field in Settings.model_fields.items()]


def settings_table() -> str:
    """The Markdown table of every setting, for the operations guide."""
    lines = ["| Variable | Default | What it does |", "| --- | --- | --- |"]
    for variable, field in _fields():
        shown = f"`{default(field)}`" if default(field) else "not set"
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{variable}` | {shown} | {description} |")
    return "\n".join(lines) + "\n"


def env_example() -> str:
    """The text of `.env.example`: every setting with its description and default."""
    parts = [ENV_HEADER]
    for variable, field in _fields():
        parts.append(f"\n# {field.description}\n")
        required = variable == "TELEGRAM_BOT_TOKEN"
        parts.append(f"{'' if required else '# '}{variable}={default(field)}\n")
    parts.append(ENV_FOOTER)
    return "".join(parts)


def guide(root: Path = ROOT) -> Path:
    """The file that holds the settings table: README.md once it has the markers."""
    for name in GUIDES:
        path = root / name
        if path.is_file() and START in path.read_text(encoding="utf-8"):
            return path
    return root / GUIDES[-1]


def with_table(text: str) -> str:
    """`text` with the block between the markers replaced by the current table."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the guide has no {START} ... {END} block")
    return f"{head}{START}\n{settings_table()}{END}{tail}"


def stale(root: Path = ROOT) -> list[Path]:
    """The generated files that do not match the code."""
    out_of_date = []
    path = guide(root)
    text = path.read_text(encoding="utf-8")
    if with_table(text) != text:
        out_of_date.append(path)
    env = root / ".env.example"
    if not env.is_file() or env.read_text(encoding="utf-8") != env_example():
        out_of_date.append(env)
    return out_of_date


def write(root: Path = ROOT) -> list[Path]:
    """Rewrite what is stale; returns what was rewritten."""
    changed = stale(root)
    for path in changed:
        if path.name == ".env.example":
            path.write_text(env_example(), encoding="utf-8")
        else:
            path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.docs [--check]`: rewrite the generated parts, or only report them."""
    args = sys.argv[1:] if argv is None else argv
    changed = stale() if "--check" in args else write()
    for path in changed:
        print(f"{'out of date' if '--check' in args else 'rewrote'}: {path.relative_to(ROOT)}")
    return 1 if changed and "--check" in args else 0


if __name__ == "__main__":
    sys.exit(main())
