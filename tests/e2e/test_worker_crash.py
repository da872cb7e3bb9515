"""Killing the projection worker with SIGKILL in the middle of a catch-up, and restarting it,
leaves the read model equal to a rebuild: no event lost, none applied twice. The worker is the
real `parcours project` command in a subprocess; on SQLite and PostgreSQL."""

import os
import signal
from datetime import date
from pathlib import Path

from adapters.application import Parcours
from adapters.projector import Projector
from adapters.settings import Settings
from projections.case_state import fold
from scripts.synthetic import load
from tests.e2e.helpers import ParcoursProcess, wait_until

BATCH = 50
"""Events per projection transaction: small, so that the catch-up takes hundreds of batches."""


def _worker(settings: Settings, log: Path) -> ParcoursProcess:
    return ParcoursProcess(settings, ["project"], log, PARCOURS_PROJECTION_BATCH=str(BATCH))


def _kill_mid_catch_up(
    settings: Settings, log: Path, projector: Projector, target: int, last: int
) -> int:
    """Start a worker, SIGKILL it once the view has passed `target` (short of the end of the
    log), and return the position the view was left at."""
    start = projector.position()
    worker = _worker(settings, log)
    try:
        wait_until(
            lambda: projector.position() >= target or worker.process.poll() is not None,
            timeout=30,
            what=f"the worker to pass position {target}",
            pause=0.002,
        )
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.process.wait(timeout=10) == -signal.SIGKILL, worker.output()
    finally:
        worker.kill_if_running()
    killed_at = projector.position()
    assert start < killed_at < last, (
        f"the worker was not killed in the middle of its catch-up: {start} < {killed_at} < {last}"
    )
    return killed_at


def test_sigkill_mid_catch_up_then_restart_equals_a_rebuild(
    settings: Settings, tmp_path: Path
) -> None:
    app = Parcours(settings)
    try:
        written = load(app, people=4000, years=3, seed=11, start=date(2022, 1, 1))
        last = app.max_position()
        assert written == last > 20_000
        projector = Projector(app)
        assert projector.position() == 0

        # Killed a third of the way, restarted, killed again two thirds of the way: each
        # restart resumes from the position the view committed last.
        first = _kill_mid_catch_up(settings, tmp_path / "w1.log", projector, last // 3, last)
        second = _kill_mid_catch_up(settings, tmp_path / "w2.log", projector, 2 * last // 3, last)
        assert first < second

        worker = _worker(settings, tmp_path / "worker-3.log")
        try:
            wait_until(
                lambda: projector.position() == last, timeout=60, what="the catch-up to the end"
            )
            assert worker.stop(signal.SIGTERM) == 0, worker.output()
        finally:
            worker.kill_if_running()

        projected = projector.view.all_rows()
        records = [
            app.mapper.to_domain_event(n)
            for n in app.recorder.select_notifications(start=None, limit=written + 1)
        ]
        assert len(records) == written
        assert projected == fold(records)
        # Each case's row is at its last version: the versions add up to the events written.
        assert sum(row.version for row in projected.values()) == written

        assert Projector(app, batch=5000).rebuild() == written
        assert projector.view.all_rows() == projected
    finally:
        app.close()
