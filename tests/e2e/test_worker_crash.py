"""Killing the projection worker with SIGKILL in the middle of a catch-up, and restarting it,
leaves the read model equal to a rebuild: no event lost, none applied twice. The worker is the
real `parcours project` command in a subprocess; on SQLite and PostgreSQL. The kills at random
points, in a loop, are in test_worker_crash_loop.py (a file of its own, so that the two share
the test processes)."""

from datetime import date
from pathlib import Path

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from adapters.synthetic import load
from projections.case_state import fold
from tests.e2e.projection_worker import catch_up_to_the_end, kill_mid_catch_up

BATCH = 100
"""Events per projection transaction: small, so that the catch-up takes hundreds of batches
(about 300 over this log)."""


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
        first = kill_mid_catch_up(settings, tmp_path / "w1.log", projector, last // 3, last, BATCH)
        second = kill_mid_catch_up(
            settings, tmp_path / "w2.log", projector, 2 * last // 3, last, BATCH
        )
        assert first < second

        catch_up_to_the_end(settings, tmp_path / "worker-3.log", projector, BATCH)
        assert projector.position() == last

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
