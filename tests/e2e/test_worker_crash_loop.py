"""Killing the projection worker with SIGKILL in the middle of a catch-up, and restarting it,
leaves the read model equal to a rebuild: no event lost, none applied twice. The worker is the
real `parcours project` command in a subprocess; on SQLite and PostgreSQL."""

import os
import random
import signal
from datetime import date
from pathlib import Path

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from adapters.synthetic import load
from projections.case_state import fold
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
            timeout=180,
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
                lambda: projector.position() == last, timeout=180, what="the catch-up to the end"
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


KILLS = 6


def test_sigkill_at_random_points_in_a_loop_then_restart_equals_a_rebuild(
    settings: Settings, tmp_path: Path
) -> None:
    """The worker is killed at random positions of its catch-up, six times over, while more
    events are written between the kills; its view ends equal to a fold of the log."""
    rng = random.Random(88)
    app = Parcours(settings)
    try:
        written = load(app, people=1500, years=2, seed=12, start=date(2023, 1, 1))
        projector = Projector(app)
        kill_points = []
        for round_ in range(KILLS):
            last = app.max_position()
            start = projector.position()
            target = rng.randint(start + 1, start + (last - start) * 9 // 10)
            kill_points.append(
                _kill_mid_catch_up(settings, tmp_path / f"w{round_}.log", projector, target, last)
            )
            written += load(app, people=100, years=1, seed=100 + round_, start=date(2024, 1, 1))
        assert kill_points == sorted(kill_points)

        last = app.max_position()
        worker = _worker(settings, tmp_path / "final.log")
        try:
            wait_until(lambda: projector.position() == last, timeout=180, what="the end")
            assert worker.stop(signal.SIGTERM) == 0, worker.output()
        finally:
            worker.kill_if_running()

        records = [r for batch in read_log(app) for r in batch]
        assert len(records) == written == last
        projected = projector.view.all_rows()
        assert projected == fold(records)
        assert sum(row.version for row in projected.values()) == written
        assert Projector(app, batch=5000).rebuild() == written
        assert projector.view.all_rows() == projected
        print(f"\n{settings.store}: {written} events, killed at {kill_points}, view == rebuild")
    finally:
        app.close()
