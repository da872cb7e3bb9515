"""Read-model versions: a model whose fold changed is rebuilt beside the old one and swapped in.

Each read model declares a `version` next to its table (`adapters.readmodels.models`);
`read_model_version` records the version each table was built with. At start (the worker, the
demo's projector, `parcours migrate`), a model whose recorded version differs from its
declared one is folded again from the whole log into a staging table (`<table>_v<version>`,
tracked under `<model>~v<version>`, its quarantined cases under that name too) while the old
table keeps serving reads; then, in one transaction, the staging table takes the old one's
name and indexes, the model's tracking position becomes the staging one's, its quarantine is
replaced and the new version recorded. The projector goes on from that position.

A table that existed before versions were recorded was built by the first release that records
them: version `BASELINE`. A model new to the database is created empty at its version and
caught up by the projector like any model. One upgrade at a time: an advisory lock on
PostgreSQL, a lock file beside the SQLite file (an upgrade outlives a write transaction).
"""

import fcntl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import psycopg
import structlog
from eventsourcing.persistence import Tracking

from adapters.eventlog.store import Parcours
from adapters.migrations import Applied, ensure_migrated, migrate
from adapters.readmodels.models import MODEL_TYPES, VersionedModel
from adapters.readmodels.projector import Projector
from adapters.readmodels.quarantine import QUARANTINE
from adapters.readmodels.tables import Tx, fresh_table, open_table
from adapters.settings import Settings
from adapters.sql import Db

log = structlog.get_logger("projection")

BASELINE = 1
"""The version of a table built before versions were recorded."""


@dataclass(frozen=True)
class Upgrade:
    """What the start did with one read model."""

    name: str
    recorded: int | None
    """The version the database recorded (None: none yet)."""
    version: int
    """The version this release declares."""
    rebuilt: bool
    events: int = 0
    """Events folded into the staging table."""
    seconds: float = 0.0
    position: int | None = None
    """The model's tracking position after the swap."""


def recorded_versions(settings: Settings) -> dict[str, int]:
    """The version each read model's table was built with, as the database records it."""
    ensure_migrated(settings)
    with Db(settings).transaction() as tx:
        rows = tx.execute("SELECT name, version FROM read_model_version")
    return {str(name): int(version) for name, version in rows}


def _record(settings: Settings, name: str, version: int) -> None:
    with Db(settings).transaction() as tx:
        tx.execute(_UPSERT, (name, version, datetime.now(UTC).isoformat()))


_UPSERT = (
    "INSERT INTO read_model_version (name, version, built_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (name) DO UPDATE SET version = excluded.version, built_at = excluded.built_at"
)


def _exists(settings: Settings, table: str) -> bool:
    with Db(settings).transaction() as tx:
        if tx.postgres:
            return tx.execute("SELECT to_regclass(%s)", (table,))[0][0] is not None
        return bool(
            tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (table,))
        )


@contextmanager
def upgrade_lock(settings: Settings) -> Iterator[None]:
    """Held while read models are compared and rebuilt: a second start waits, then finds
    them at their version."""
    if settings.store == "postgres":
        key = f"parcours.read_models.{settings.postgres_schema}"
        with psycopg.connect(**settings.postgres_conninfo(), autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
        return
    path = settings.sqlite_file.with_name(settings.sqlite_file.name + ".versions.lock")
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_read_models(
    app: Parcours, kinds: Sequence[type[VersionedModel]] = MODEL_TYPES
) -> list[Upgrade]:
    """Bring every read model to the version this release declares (see the module's
    docstring); returns what was done to each."""
    settings = app.settings
    ensure_migrated(settings)
    out: list[Upgrade] = []
    with upgrade_lock(settings):
        recorded = recorded_versions(settings)
        for kind in kinds:
            before = recorded.get(kind.name)
            if before is None:
                built = BASELINE if _exists(settings, kind.spec.name) else kind.version
                open_table(app, kind.spec)
                _record(settings, kind.name, built)
                if built == kind.version:
                    out.append(Upgrade(kind.name, None, kind.version, rebuilt=False))
                    continue
            elif before == kind.version:
                out.append(Upgrade(kind.name, before, kind.version, rebuilt=False))
                continue
            out.append(rebuild_into_staging(app, kind, before))
    return out


def staging_name(kind: type[VersionedModel]) -> str:
    return f"{kind.spec.name}_v{kind.version}"


def rebuild_into_staging(
    app: Parcours, kind: type[VersionedModel], recorded: int | None = None
) -> Upgrade:
    """Fold the whole log into `kind`'s staging table, then swap it in (see the module's
    docstring); the old table serves reads until the swap."""
    started = time.perf_counter()
    staging = staging_name(kind)
    staged_model = f"{kind.name}~v{kind.version}"
    tracking = f"{app.name}.{kind.name}"
    live = open_table(app, kind.spec)
    version_ref = live.ref_of("read_model_version")

    def record(tx: Tx) -> None:
        now = datetime.now(UTC).isoformat()
        tx.run(
            _UPSERT.replace("read_model_version", version_ref, 1), (kind.name, kind.version, now)
        )

    own = getattr(kind.over(app, live), "rebuild", None)
    events = own(tracking, then=record) if own is not None else None
    if events is not None:  # a rebuild of its own (the follow-up on PostgreSQL: every core)
        seconds = time.perf_counter() - started
        position = int(live.max_tracking_id(tracking) or 0)
        log.info("read_model.swapped", model=kind.name, version=kind.version, events=events)
        return Upgrade(kind.name, recorded, kind.version, True, events, seconds, position)
    # What an interrupted attempt may have left: its table, position and quarantine.
    with live.writing() as tx:
        tx.run(f"DROP TABLE IF EXISTS {live.ref_of(staging)}")
        tx.run(
            f"DELETE FROM {live.tracking_ref} WHERE application_name = %s",
            (f"{app.name}.{staged_model}",),
        )
        tx.run(f"DELETE FROM {live.ref_of(QUARANTINE.name)} WHERE model = %s", (staged_model,))
    table = fresh_table(app, replace(kind.spec, name=staging, indexes=()))
    model = kind.over(app, table)
    model.name = staged_model
    log.info("read_model.rebuild_started", model=kind.name, version=kind.version)
    folder = Projector(app, models=[model])
    events = folder.catch_up()
    position = folder.position()

    def then(tx: Tx) -> None:
        quarantine = live.ref_of(QUARANTINE.name)
        tx.run(f"DELETE FROM {quarantine} WHERE model = %s", (kind.name,))
        tx.run(f"UPDATE {quarantine} SET model = %s WHERE model = %s", (kind.name, staged_model))
        tx.run(
            f"DELETE FROM {live.tracking_ref} WHERE application_name = %s",
            (f"{app.name}.{staged_model}",),
        )
        record(tx)

    live.swap_from(staging, Tracking(tracking, position), then)
    seconds = time.perf_counter() - started
    log.info(
        "read_model.swapped",
        model=kind.name,
        version=kind.version,
        events=events,
        position=position,
        seconds=round(seconds, 2),
    )
    return Upgrade(
        kind.name,
        recorded,
        kind.version,
        rebuilt=True,
        events=events,
        seconds=seconds,
        position=position,
    )


def migrate_at_start(app: Parcours) -> tuple[list[Applied], list[Upgrade]]:
    """What the worker, the demo and `parcours migrate` run before anything else: the schema's
    migrations, then the read models' upgrades."""
    applied = migrate(app.settings)
    return applied, upgrade_read_models(app)
