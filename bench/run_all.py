"""Run every benchmark in turn (`make bench`); `--smoke` runs each at tiny sizes.

Each benchmark runs in a process of its own, one after the other, so no two compete for the
two cores. Its table goes to stdout and its figures to `bench/results/<name>.json`;
`bench/results/summary.json` lists every figure with its target and whether it was met.

`--engine postgresql` runs the benchmarks that touch the database (`ON_EITHER_ENGINE`) on a
PostgreSQL server of their own instead of SQLite; their figures go to `<name>-postgresql.json`.

Run: `python -m bench.run_all [--smoke] [--only fanout,pace] [--engine sqlite|postgresql]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench import common

BENCHMARKS = (
    "fanout",
    "pace",
    "content",
    "commands",
    "memory",
    "restart",
    "ledger",
    "search",
    "failover",
)
#: The benchmarks that run on either engine (`--engine`).
ON_EITHER_ENGINE = ("fanout", "restart", "ledger", "failover")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; the exit status says whether any failed to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds each")
    parser.add_argument("--only", default="", help="comma-separated names: " + ",".join(BENCHMARKS))
    common.add_engine_options(parser)
    args = parser.parse_args(argv)
    everything = BENCHMARKS if args.engine == "sqlite" else ON_EITHER_ENGINE
    chosen = [name for name in args.only.split(",") if name] or list(everything)
    unknown = set(chosen) - set(everything)
    if unknown:
        parser.error(f"unknown benchmarks on {args.engine}: {', '.join(sorted(unknown))}")
    engine = [] if args.engine == "sqlite" else ["--engine", args.engine]
    if args.database_url:
        engine += ["--database-url", args.database_url]
    print(json.dumps(common.machine()))
    failed: list[str] = []
    summary: dict[str, object] = {}
    for name in chosen:
        started = time.perf_counter()
        command = [sys.executable, "-m", f"bench.{name}", *(["--smoke"] if args.smoke else [])]
        if subprocess.run([*command, *engine], cwd=common.ROOT, check=False).returncode != 0:
            failed.append(name)
            continue
        results = common.results_name(name, args.engine)
        result = json.loads((common.RESULTS / f"{results}.json").read_text())
        summary[name] = {
            "seconds": round(time.perf_counter() - started, 1),
            "figures": result["figures"],
        }
    common.write_results(
        common.results_name("summary", args.engine),
        {"smoke": args.smoke, "engine": args.engine, "benchmarks": summary},
    )
    missed = [
        f"{name}: {figure}"
        for name, entry in summary.items()
        for figure, values in entry["figures"].items()  # type: ignore[index]
        if values["passed"] is False
    ]
    print("\ntargets missed: " + ("; ".join(missed) if missed else "none"))
    if failed:
        print(f"benchmarks that did not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
