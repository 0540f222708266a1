"""Every benchmark still runs: each one once at tiny sizes (`--smoke`), writing its JSON.

No timing is asserted here, only that each benchmark completes and reports the figures the docs
quote; the figures themselves come from `make bench` (see docs/benchmarks.md). Every benchmark
runs on SQLite; two of those that run on either engine, cheap at smoke size, run on PostgreSQL
too (a server of their own, as `bench/postgres.py` starts it), which covers the seeding of a
PostgreSQL database by copy that all four share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Each benchmark, with keys its JSON must have and figures its table must show.
EXPECTED = {
    "fanout": (
        {"runs", "chats", "rate"},
        {
            "messages/s, pace lifted",
            "CPU s per 1,000 messages",
            "429 Too Many Requests at the rate",
        },
    ),
    "pace": (
        {"flood_errors", "busiest_second"},
        {"messages/s over the run", "429 Too Many Requests"},
    ),
    "content": ({"cold_seconds", "rescan_seconds"}, {"cold load", "rescan, nothing changed"}),
    "commands": ({"handling", "replies", "core"}, {"core latest p99", "core category p99"}),
    "memory": ({"runs", "chats", "posts"}, {"peak RSS"}),
    "restart": ({"first_delivery_seconds", "runs"}, {"start to first delivery"}),
    "ledger": (
        {"queue", "month"},
        {
            "queue one post for every chat",
            "longest wait of a reader's command meanwhile",
            "database size, last day against the settled day",
            "/latest database read p99, last day against the settled day",
        },
    ),
    "search": ({"posts", "found", "index_seconds"}, {"/search query path p99"}),
    "failover": (
        {"failover_seconds", "handover_seconds", "runs"},
        {"kill -9 to next delivery", "SIGTERM to next delivery"},
    ),
}
FIGURE_KEYS = {"value", "unit", "floor", "ratio", "target", "passed"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_runs_at_smoke_size(name: str, tmp_path: Path) -> None:
    _run_smoke(name, "sqlite", tmp_path)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["ledger", "restart"])
def test_benchmark_runs_on_postgresql_at_smoke_size(name: str, tmp_path: Path) -> None:
    _run_smoke(name, "postgresql", tmp_path)


def _run_smoke(name: str, engine: str, tmp_path: Path) -> None:
    env = {**os.environ, "NEWSBOT_BENCH_RESULTS": str(tmp_path)}
    server = os.environ.get("NEWSBOT_TEST_POSTGRES")
    options = [] if engine == "sqlite" else ["--engine", engine]
    if server and engine != "sqlite":
        options += ["--database-url", server]
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--smoke", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    file = name if engine == "sqlite" else f"{name}-{engine}"
    result = json.loads((tmp_path / f"{file}.json").read_text())
    keys, figures = EXPECTED[name]
    assert result["benchmark"] == file and result["smoke"] is True
    assert result.get("engine", "sqlite") == engine
    assert {"nproc", "cpu", "python"} <= result["machine"].keys()
    assert keys <= result.keys()
    assert figures <= result["figures"].keys()
    assert all(figure.keys() == FIGURE_KEYS for figure in result["figures"].values())
