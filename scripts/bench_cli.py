"""Benchmark of the command line's start, in one run:

    python3 -m uv run python -m scripts.bench_cli --runs 15 --before main

Each command runs in a fresh process, as a user starts it (the `parcours` script of this
environment), N times in turn with the others so that a change of load hits every row alike;
the median wall time is kept. Next to them, in the same run, the raw limit: the interpreter
alone (`python -c pass`) and the two libraries every stored command needs (`import msgspec,
psycopg`), and structlog, which every command configures. `--before REF` also runs the same
commands from the code of a git ref (exported to a temporary directory). Rewrites its own
section of docs/benchmarks.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from scripts.benchlib import machine, write_section

BEGIN = "<!-- bench_cli: begin -->"
END = "<!-- bench_cli: end -->"
TARGET = 0.5
"""Seconds within which any `parcours` command is to start (issue 18)."""
ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PARCOURS = str(Path(sys.executable).with_name("parcours"))

Row = tuple[str, list[str], bool]
"""Label, command line, and whether it runs the project's code (so a `--before` run too)."""

ROWS: list[Row] = [
    ("`python -c pass` (the interpreter alone)", [PYTHON, "-c", "pass"], False),
    ("`python -c 'import msgspec, psycopg'` (raw limit)", [PYTHON, "-c", "import msgspec, psycopg"], False),
    ("`python -c 'import structlog'` (logging, configured by every command)", [PYTHON, "-c", "import structlog"], False),
    ("`parcours --help`", [PARCOURS, "--help"], True),
    ("`parcours stats --help`", [PARCOURS, "stats", "--help"], True),
    ("`parcours token --agent bench --role orientation` (no store)", [PARCOURS, "token", "--agent", "bench", "--role", "orientation"], True),
    ("`parcours status` (empty SQLite store)", [PARCOURS, "status"], True),
]  # fmt: skip


def _export(ref: str, into: Path) -> None:
    """The project's files at `ref`, written under `into`."""
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def _once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(runs: int, before: str | None) -> dict[tuple[str, str], list[float]]:
    """Seconds of each run of each row, for the code here ("now") and at `before`."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
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
        for env_, cwd in sides.values():  # a first start creates the store and the key files
            for _, argv, _ in ROWS:
                _once(argv, env_, cwd)
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(runs):
            for label, argv, ours in ROWS:
                for side, (env_, cwd) in sides.items():
                    if side == "now" or ours:
                        times.setdefault((label, side), []).append(_once(argv, env_, cwd))
        return times


def table(times: dict[tuple[str, str], list[float]], runs: int, before: str | None) -> list[str]:
    head = "| command | median s | min s | max s |" + (
        f" before ({before}), median s |" if before else ""
    )
    lines = [head, "|---|---|---|---|" + ("---|" if before else "")]
    for label, _, _ in ROWS:
        now = times[(label, "now")]
        line = f"| {label} | {statistics.median(now):.3f} | {min(now):.3f} | {max(now):.3f} |"
        if before:
            old = times.get((label, "before"))
            line += f" {statistics.median(old):.3f} |" if old else " |"
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--before", help="a git ref whose code is measured too (main)")
    args = parser.parse_args()
    times = measure(args.runs, args.before)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = table(times, args.runs, args.before)
    med = {label: statistics.median(times[(label, "now")]) for label, _, _ in ROWS}
    helps = [med[label] for label, argv, _ in ROWS if "--help" in argv]
    token = next(med[label] for label, argv, _ in ROWS if "token" in argv)
    structlog = next(med[label] for label, argv, _ in ROWS if "import structlog" in argv)
    verdict = "within" if max(helps) < TARGET else "above"
    before_text = f" (against {args.before}'s code in the last column)" if args.before else ""
    lines = [
        BEGIN,
        "## Command-line start (`scripts/bench_cli.py`)",
        "",
        f"Wall time of a whole process, median of {args.runs} runs each, the rows taking turns: "
        f"{machine()}, load average {load} at the end, {date.today().isoformat()}.",
        "",
        *rows,
        "",
        f"`--help` is {verdict} the target of {TARGET} s on this machine at this load"
        f"{before_text}: each command imports what it runs when it runs (docs/architecture.md, "
        '"The command line"), so the parser is built from the vocabularies alone, without '
        "msgspec, the store or the web stack. A command that runs pays for its own libraries on "
        f"top: `token` ({token:.2f} s) for the settings, structlog and PyJWT with cryptography, "
        f"structlog alone taking {structlog:.2f} s here (in this development environment it also "
        "loads rich, which schemathesis brings); `status` for the event store (eventsourcing, "
        "psycopg). `tests/unit/test_cli_imports.py` keeps fastapi, uvicorn, matplotlib, pyarrow "
        "and duckdb out of the parser and of the commands that serve no HTTP.",
        END,
    ]
    write_section(BEGIN, END, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
