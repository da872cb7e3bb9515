"""The real `parcours project` worker in a subprocess, and a SIGKILL of it in the middle of its
catch-up: shared by the worker crash tests."""

import os
import signal
from pathlib import Path

from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from tests.e2e.helpers import ParcoursProcess, wait_until

DEADLINE = 300
"""Seconds any wait on the worker may take: generous, a busy machine is slow, not broken."""


def start_worker(settings: Settings, log: Path, batch: int) -> ParcoursProcess:
    """`parcours project` committing `batch` events per projection transaction."""
    return ParcoursProcess(settings, ["project"], log, PARCOURS_PROJECTION_BATCH=str(batch))


def kill_mid_catch_up(
    settings: Settings, log: Path, projector: Projector, target: int, last: int, batch: int
) -> int:
    """Start a worker, SIGKILL it once the view has passed `target` (short of the end of the
    log), and return the position the view was left at."""
    start = projector.position()
    worker = start_worker(settings, log, batch)
    try:
        wait_until(
            lambda: projector.position() >= target or worker.process.poll() is not None,
            timeout=DEADLINE,
            what=f"the worker to pass position {target}",
            pause=0.002,  # the kill lands within a batch or two of the target
        )
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.process.wait(timeout=DEADLINE) == -signal.SIGKILL, worker.output()
    finally:
        worker.kill_if_running()
    killed_at = projector.position()
    assert start < killed_at < last, (
        f"the worker was not killed in the middle of its catch-up: {start} < {killed_at} < {last}"
    )
    return killed_at


def catch_up_to_the_end(settings: Settings, log: Path, projector: Projector, batch: int) -> None:
    """A last worker reaches the end of the log and exits cleanly on SIGTERM."""
    last = projector.app.max_position()
    worker = start_worker(settings, log, batch)
    try:
        wait_until(
            lambda: projector.position() == last, timeout=DEADLINE, what="the catch-up to the end"
        )
        assert worker.stop(signal.SIGTERM, timeout=DEADLINE) == 0, worker.output()
    finally:
        worker.kill_if_running()
