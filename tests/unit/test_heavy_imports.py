"""The API starts without its heavy optional parts: Parquet (pyarrow), charts (matplotlib) and
duckdb load when an extract or a chart is produced, not when the app is imported, built or
started. Checked in a fresh interpreter by what it has imported, so it holds on a busy machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {"pyarrow", "matplotlib", "duckdb", "fpdf", "fontTools"}

PROBE = """
import json, sys
from fastapi.testclient import TestClient
from adapters.settings import Settings
from api.http.app import create_app
after_import = sorted({m.split(".")[0] for m in sys.modules})
with TestClient(create_app(Settings.from_env())) as client:
    status = client.get("/health/live").status_code
after_start = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"import": after_import, "start": after_start, "status": status}))
"""

EXTRACT = """
import io, sys
from adapters.render.extracts import Format, open_writer
from projections.cohort import Colonne
writer = open_writer(Format.PARQUET, io.BytesIO(), [Colonne("n", "int", "N", "un nombre")])
writer.write([{"n": 1}])
writer.close()
print("pyarrow" in sys.modules)
"""


def _run(code: str, data_dir: Path) -> str:
    env = {**os.environ, "PARCOURS_DATA_DIR": str(data_dir), "PARCOURS_STORE": "sqlite"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_the_api_imports_and_starts_without_parquet_charts_or_duckdb(tmp_path: Path) -> None:
    seen = json.loads(_run(PROBE, tmp_path))
    assert seen["status"] == 200
    assert "fastapi" in seen["import"]  # the probe did build the web stack
    assert not HEAVY & set(seen["import"]), sorted(HEAVY & set(seen["import"]))
    assert not HEAVY & set(seen["start"]), sorted(HEAVY & set(seen["start"]))


def test_a_parquet_extract_still_loads_pyarrow_when_written(tmp_path: Path) -> None:
    """The same probe sees pyarrow once a Parquet extract is written: the check can fail."""
    assert _run(EXTRACT, tmp_path) == "True"
