"""The projection worker SIGKILLed at random points of its catch-up, round after round, while
more events are written between the kills, and restarted: its view ends equal to a fold of the
log and to a rebuild. The worker is the real `parcours project` command in a subprocess; on
SQLite and PostgreSQL."""

import random
from datetime import date
from pathlib import Path

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from adapters.synthetic import load
from projections.case_state import fold
from tests.e2e.projection_worker import catch_up_to_the_end, kill_mid_catch_up

BATCH = 50
"""Events per projection transaction: small, so that each catch-up takes dozens of batches."""

KILLS = 3


def test_sigkill_at_random_points_in_a_loop_then_restart_equals_a_rebuild(
    settings: Settings, tmp_path: Path
) -> None:
    """The worker is killed at random positions of its catch-up, three times over, while more
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
                kill_mid_catch_up(
                    settings, tmp_path / f"w{round_}.log", projector, target, last, BATCH
                )
            )
            written += load(app, people=100, years=1, seed=100 + round_, start=date(2024, 1, 1))
        assert kill_points == sorted(kill_points)

        last = app.max_position()
        catch_up_to_the_end(settings, tmp_path / "final.log", projector, BATCH)
        assert projector.position() == last

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
