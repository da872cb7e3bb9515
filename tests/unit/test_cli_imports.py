"""The command line starts light: its parser, `--help` and the commands that serve no HTTP load
neither the web stack nor the heavy libraries of charts and extracts. Checked in a fresh
interpreter by what it has imported, not by a stopwatch, so the test holds on a busy machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("fastapi", "starlette", "uvicorn", "matplotlib", "pyarrow", "duckdb", "fpdf", "fontTools")
STORE = ("msgspec", "psycopg", "eventsourcing", "structlog")
"""What a command that runs needs, and the parser alone does not."""

PROBE = """
import json, sys
argv = json.loads(sys.argv[1])
if argv is None:
    import api.cli.main
else:
    from api.cli.main import main
    try:
        main(argv)
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _loaded(argv: list[str] | None, data_dir: Path) -> set[str]:
    env = {**os.environ, "PARCOURS_DATA_DIR": str(data_dir), "PARCOURS_STORE": "sqlite"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    last = done.stdout.strip().splitlines()[-1]
    return set(json.loads(last))


@pytest.mark.parametrize(
    "argv",
    [
        None,
        ["--help"],
        ["--version"],
        ["stats", "--help"],
        ["cohort", "extract", "--help"],
        ["finance", "simulate", "--help"],
        ["audit", "purger-acces", "--help"],
        ["ep", "situation", "--help"],
        ["ep", "a-traiter", "--date", "2025-01-01"],
        ["token", "--agent", "moi", "--role", "orientation"],
        ["backup", "--help"],
        ["restore", "--help"],
        ["retention", "run", "--a-blanc"],
    ],
    ids=lambda argv: "import" if argv is None else " ".join(argv[:3]),
)
def test_the_command_line_loads_no_heavy_library(argv: list[str] | None, tmp_path: Path) -> None:
    loaded = _loaded(argv, tmp_path)
    assert "argparse" in loaded  # the probe did run the command line
    assert not loaded & set(HEAVY), f"parcours {argv} imports {sorted(loaded & set(HEAVY))}"
    if argv is None or "--help" in argv or "--version" in argv:
        assert not loaded & set(STORE), f"parcours {argv} imports {sorted(loaded & set(STORE))}"


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The same probe catches the web stack once a command that serves HTTP is built."""
    env = {**os.environ, "PARCOURS_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import sys, api.http.app; print('fastapi' in sys.modules)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "True"
