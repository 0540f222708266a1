"""Print the latest results as Markdown tables, for docs/benchmarks.md.

Run after `make bench`: `python -m bench.report`. It reads `bench/results/<name>.json` and prints
one table per benchmark, with the machine and the sizes each one ran at; those that ran on
PostgreSQL too (`<name>-postgresql.json`) get a second table.
"""

from __future__ import annotations

import json
import sys

from bench import common
from bench.run_all import BENCHMARKS, ON_EITHER_ENGINE

SIZES = ("chats", "posts", "pending", "rate", "latency", "repeat", "count")


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(result: dict[str, object]) -> str:
    """One benchmark's figures as a Markdown table."""
    lines = ["| figure | value | floor | ratio | target | |", "|---|---|---|---|---|---|"]
    figures = result["figures"]
    assert isinstance(figures, dict)
    for name, f in figures.items():
        verdict = {True: "met", False: "**missed**", None: ""}[f["passed"]]
        ratio = "" if f["ratio"] is None else f"{f['ratio']:.2f}"
        lines.append(
            f"| {name} | {_cell(f['value'], f['unit'])} | {_cell(f['floor'], f['unit'])} "
            f"| {ratio} | {f['target']} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Print every benchmark that has results."""
    files = [(name, name) for name in BENCHMARKS]
    files += [(common.results_name(name, "postgresql"), name) for name in ON_EITHER_ENGINE]
    for file, name in files:
        path = common.RESULTS / f"{file}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        sizes = ", ".join(f"{k} {result[k]:,}" for k in SIZES if isinstance(result.get(k), int))
        rate = result.get("rate")
        if isinstance(rate, float):
            sizes += f", rate {rate:g} msg/s"
        machine = result["machine"]
        engine = result.get("engine", "sqlite")
        print(f"### {name} ({engine})\n")
        print(
            f"{result['when']}, {sizes}{' (smoke)' if result.get('smoke') else ''}; "
            f"{machine['nproc']} cores, {machine['cpu']}, Python {machine['python']}, "
            f"load average at start {machine['load_average'][0]}\n"
        )
        print(table(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
