"""Benchmark of the API's start, in one run:

    python3 -m uv run python -m scripts.bench_app_start --runs 9 --before main

Each row runs in a fresh interpreter, the rows taking turns so that a change of load hits them
alike; the median wall time is kept. Ours: importing `api.http.app` and building the app (what
`parcours serve` and every test that builds the app pay before the first request). The raw
limit, in the same run: the interpreter importing fastapi alone; and what no longer loads at
start, the Parquet and chart libraries, measured on their own. `--before REF` runs our rows from
the code of a git ref too. Rewrites its own section of docs/benchmarks.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

from scripts.bench_cli import _export, _once
from scripts.benchlib import machine, write_section

BEGIN = "<!-- bench_app_start: begin -->"
END = "<!-- bench_app_start: end -->"
ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BUILD = (
    "from adapters.settings import Settings; from api.http.app import create_app; "
    "create_app(Settings.from_env())"
)

Row = tuple[str, list[str], bool]
"""Label, command line, and whether it runs the project's code (so a `--before` run too)."""

ROWS: list[Row] = [
    ("`import fastapi` (the framework alone: raw limit)", [PYTHON, "-c", "import fastapi"], False),
    ("`import pyarrow, pyarrow.parquet` (Parquet: no longer at start)", [PYTHON, "-c", "import pyarrow, pyarrow.parquet"], False),
    ("`import matplotlib.pyplot` (charts: never at start)", [PYTHON, "-c", "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot"], False),
    ("`import api.http.app`", [PYTHON, "-c", "import api.http.app"], True),
    ("`create_app()` (import and build)", [PYTHON, "-c", BUILD], True),
]  # fmt: skip


def measure(runs: int, before: str | None) -> dict[tuple[str, str], list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("PARCOURS_", "PYTHONPATH"))
        }
        env = {**base, "PARCOURS_STORE": "sqlite", "PARCOURS_DATA_DIR": str(Path(tmp) / "data")}
        sides = {"now": (env, ROOT)}
        if before:
            old = Path(tmp) / "before"
            old.mkdir()
            _export(before, old)
            sides["before"] = ({**env, "PYTHONPATH": str(old)}, old)
        for env_, cwd in sides.values():  # warm the file cache and the bytecode
            for _, argv, _ in ROWS:
                _once(argv, env_, cwd)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(runs):
            for label, argv, ours in ROWS:
                for side, (env_, cwd) in sides.items():
                    if side == "now" or ours:
                        times.setdefault((label, side), []).append(_once(argv, env_, cwd))
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", help="a git ref whose code is measured too (main)")
    args = parser.parse_args()
    times = measure(args.runs, args.before)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    head = "| what | median s | min s | max s |" + (
        f" before ({args.before}), median s |" if args.before else ""
    )
    rows = [head, "|---|---|---|---|" + ("---|" if args.before else "")]
    for label, _, _ in ROWS:
        now = times[(label, "now")]
        line = f"| {label} | {statistics.median(now):.3f} | {min(now):.3f} | {max(now):.3f} |"
        if args.before:
            old = times.get((label, "before"))
            line += f" {statistics.median(old):.3f} |" if old else " |"
        rows.append(line)
    lines = [
        BEGIN,
        "## API start (`scripts/bench_app_start.py`)",
        "",
        f"Wall time of a whole process, median of {args.runs} runs each, the rows taking turns: "
        f"{machine()}, load average {load} at the end, {date.today().isoformat()}.",
        "",
        *rows,
        "",
        "pyarrow is imported when a Parquet extract is written and matplotlib when a chart is "
        "drawn, not when the app is imported or built (`tests/unit/test_heavy_imports.py` checks "
        "it in a fresh interpreter): the API, and every test that builds it, no longer pays the "
        "Parquet row above. What remains above the framework's own import is the app's routes, "
        "screens and the store's libraries (psycopg, eventsourcing, structlog).",
        END,
    ]
    write_section(BEGIN, END, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
