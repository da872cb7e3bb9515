"""SIGKILL of the projection worker in the middle of a catch-up, then a restart, leaves the read
model equal to a rebuild: no event lost, none applied twice."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from adapters.application import Parcours
from adapters.projector import Projector
from adapters.settings import Settings
from projections.case_state import fold
from scripts.synthetic import load

ROOT = Path(__file__).resolve().parents[2]


def _env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "PARCOURS_STORE": settings.store,
        "PARCOURS_DATA_DIR": str(settings.data_dir),
        "PARCOURS_PROJECTION_BATCH": "50",
        "PARCOURS_POLL_INTERVAL": "0.1",
        "PARCOURS_LOG_LEVEL": "WARNING",
    }
    if settings.store == "postgres":
        env |= {
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": settings.postgres_password,
            "POSTGRES_DBNAME": settings.postgres_dbname,
            "POSTGRES_SCHEMA": settings.postgres_schema,
        }
    return env


def _worker(settings: Settings) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "project"], cwd=ROOT, env=_env(settings)
    )


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_sigkill_mid_catch_up_then_restart_equals_rebuild(settings: Settings) -> None:
    app = Parcours(settings)
    written = load(app, people=3000, years=3, seed=11, start=date(2022, 1, 1))
    last = app.max_position()
    assert written > 15_000
    projector = Projector(app)

    worker = _worker(settings)
    try:
        _wait_for(lambda: projector.position() > 0, timeout=60)
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        worker.kill()
    killed_at = projector.position()
    assert 0 < killed_at < last, "the worker was not in the middle of its catch-up"

    worker = _worker(settings)
    try:
        _wait_for(lambda: projector.position() == last, timeout=120)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    finally:
        worker.kill()

    log = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(None, last)]
    assert len(log) == written
    assert projector.view.all_rows() == fold(log)
    app.close()
