"""A read model whose version changed is rebuilt from the log beside its table and swapped in,
on both stores, while readers keep reading: they see the old rows whole until the swap and the
new ones after, never an error nor a half-built table; the model's position is the staging
one's, and the projector goes on from there."""

import threading
import time
from collections.abc import Sequence, Set
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Tracking

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.migrations import migrate
from adapters.readmodels.models import MODEL_TYPES, VersionedModel, open_read_models
from adapters.readmodels.projector import Projector
from adapters.readmodels.recording_index import position_known_at
from adapters.readmodels.tables import Column, Index, Kind, Table, TableSpec, open_table
from adapters.readmodels.versions import recorded_versions, upgrade_read_models
from adapters.settings import Settings
from adapters.synthetic import load
from domain.events import Recorded
from tests.integration.schema_catalog import catalog

ESSAI = TableSpec(
    "essai",
    columns=(
        Column("case_id", Kind.UUID),
        Column("events", Kind.INT),
        Column("version", Kind.INT),
    ),
    key=("case_id",),
    indexes=(Index("version", ("version", "case_id")),),
)


SUMMARY = ("min(version)", "max(version)", "count(*)")
"""What a reader reads: the versions of the rows it sees, and how many there are."""


class Essai:
    """A read model for the test: each case's count of events, stamped with the version of
    the code that folded it."""

    name = "essai"
    version = 1
    spec = ESSAI
    folding = threading.Event()
    """Set while a staging fold runs (what the reader checks it read during)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    @classmethod
    def over(cls, app: Parcours, table: Table) -> "Essai":
        return cls(table)

    def position(self, tracking_name: str) -> int:
        return self.table.max_tracking_id(tracking_name) or 0

    def reset(self, tracking_name: str) -> None:
        self.table.reset(tracking_name)

    def fold(self, records: Sequence[Recorded], refold: Set[UUID]) -> dict[UUID, Any]:
        if self.name != type(self).name:  # the staging fold: slow enough to be read during
            type(self).folding.set()
            time.sleep(0.02)
        counts = {
            i: n
            for i, n in self.table.by_key(("case_id", "events"), {r.originator_id for r in records})
        }
        for r in records:
            counts[r.originator_id] = counts.get(r.originator_id, 0) + 1
        return {i: (i, n, type(self).version) for i, n in counts.items()}

    def save(self, values: dict[UUID, Any], tracking: Tracking) -> None:
        with self.table.writing(tracking) as tx:
            tx.upsert(values.values())

    def probe(self, values: dict[UUID, Any]) -> None:
        with self.table.writing(commit=False) as tx:
            tx.upsert(values.values())


def _small(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, projection_batch=100)


def _counts(app: Parcours) -> dict[UUID, int]:
    out: dict[UUID, int] = {}
    for batch in read_log(app, 0, app.max_position()):
        for r in batch:
            out[r.originator_id] = out.get(r.originator_id, 0) + 1
    return out


def test_a_version_bump_is_rebuilt_beside_and_swapped_while_reads_go_on(
    settings: Settings, monkeypatch: Any
) -> None:
    settings = _small(settings)
    migrate(settings)
    app = Parcours(settings)
    load(app, 40, 2, 7, date(2023, 1, 1))
    kinds: list[type[VersionedModel]] = [Essai]
    assert upgrade_read_models(app, kinds)[0].rebuilt is False  # new: created at its version
    live = open_table(app, ESSAI)
    Projector(app, models=[Essai(live)]).catch_up()
    cases = len(_counts(app))
    assert live.select(SUMMARY) == [(1, 1, cases)]
    old_position = Essai(live).position(f"{app.name}.essai")

    seen: list[tuple[bool, list[tuple[Any, ...]]]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                during = Essai.folding.is_set()
                rows = live.select(SUMMARY)
                seen.append((during, rows))
            except BaseException as e:
                errors.append(e)
                return

    monkeypatch.setattr(Essai, "version", 2)
    thread = threading.Thread(target=reader)
    thread.start()
    try:
        [upgrade] = upgrade_read_models(app, kinds)
    finally:
        done.set()
        thread.join(timeout=60)
    assert errors == []
    assert upgrade.rebuilt
    assert upgrade.recorded == 1
    assert upgrade.version == 2
    assert upgrade.events == app.max_position()
    # Every read saw one whole table: the old rows, then the new ones; never an empty one.
    states = [rows for _, rows in seen]
    assert all(rows in ([(1, 1, cases)], [(2, 2, cases)]) for rows in states), states[:5]
    assert any(during and rows == [(1, 1, cases)] for during, rows in seen)
    first_new = states.index([(2, 2, cases)]) if [(2, 2, cases)] in states else len(states)
    assert all(rows == [(2, 2, cases)] for rows in states[first_new:])
    assert live.select(SUMMARY) == [(2, 2, cases)]
    # Its position is the staging one's; nothing of the staging is left.
    tracking = f"{app.name}.essai"
    assert upgrade.position == app.max_position() == Essai(live).position(tracking)
    assert old_position == upgrade.position
    assert live.max_tracking_id(f"{app.name}.essai~v2") is None
    assert set(catalog(settings, {"essai", "essai_v2"})) == {"essai"}
    assert recorded_versions(settings)["essai"] == 2
    # The projector goes on from there, each event applied once.
    load(app, 10, 1, 8, date(2024, 1, 1))
    Projector(app, models=[Essai(live)]).catch_up()
    expected = _counts(app)
    assert dict(live.select(("case_id", "events"))) == expected
    assert upgrade_read_models(app, kinds)[0].rebuilt is False  # at its version now
    app.close()


def _rows(app: Parcours) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for kind in MODEL_TYPES:
        table = open_table(app, kind.spec)
        out[kind.name] = sorted(table.select(kind.spec.names), key=repr)
    return out


def test_every_real_model_bumped_is_rebuilt_to_the_same_rows_tables_and_positions(
    settings: Settings, monkeypatch: Any
) -> None:
    migrate(settings)
    app = Parcours(settings)
    load(app, 60, 2, 11, date(2023, 1, 1))
    assert not any(u.rebuilt for u in upgrade_read_models(app))
    projector = Projector(app)
    projector.catch_up()
    rows = _rows(app)
    names = {kind.spec.name for kind in MODEL_TYPES}
    tables = catalog(settings, names)
    known = position_known_at(app, app.clock())
    declared = {kind: kind.version for kind in MODEL_TYPES}
    for kind in MODEL_TYPES:
        monkeypatch.setattr(kind, "version", declared[kind] + 1)
    upgrades = upgrade_read_models(app)
    assert [(u.name, u.recorded, u.rebuilt) for u in upgrades] == [
        (kind.name, declared[kind], True) for kind in MODEL_TYPES
    ]
    assert _rows(app) == rows
    staging = {f"{kind.spec.name}_v{declared[kind] + 1}" for kind in MODEL_TYPES}
    assert catalog(settings, names | staging) == tables  # same names, indexes
    assert projector.positions() == {kind.name: app.max_position() for kind in MODEL_TYPES}
    assert position_known_at(app, app.clock()) == known  # an index hint still finds its index
    assert recorded_versions(settings) == {kind.name: declared[kind] + 1 for kind in MODEL_TYPES}
    # Back to the previous release (a rollback): rebuilt again at its version.
    for kind in MODEL_TYPES:
        monkeypatch.setattr(kind, "version", declared[kind])
    assert all(u.rebuilt for u in upgrade_read_models(app))
    assert _rows(app) == rows
    assert open_read_models(app)
    app.close()


def test_an_interrupted_rebuild_leaves_the_old_table_serving_and_the_next_start_redoes_it(
    settings: Settings, monkeypatch: Any
) -> None:
    settings = _small(settings)
    migrate(settings)
    app = Parcours(settings)
    load(app, 30, 2, 5, date(2023, 1, 1))
    kinds: list[type[VersionedModel]] = [Essai]
    upgrade_read_models(app, kinds)
    live = open_table(app, ESSAI)
    Projector(app, models=[Essai(live)]).catch_up()
    before = sorted(live.select(ESSAI.names), key=repr)
    position = app.max_position()
    monkeypatch.setattr(Essai, "version", 2)
    folds = 0
    fold = Essai.fold

    def failing(self: Essai, records: Sequence[Recorded], refold: Set[UUID]) -> dict[UUID, Any]:
        nonlocal folds
        folds += 1
        if folds == 2:  # the process dies in the middle of the staging fold (2nd batch)
            raise KeyboardInterrupt
        return fold(self, records, refold)

    monkeypatch.setattr(Essai, "fold", failing)
    try:
        upgrade_read_models(app, kinds)
    except KeyboardInterrupt:
        pass
    else:  # pragma: no cover - the fold was interrupted
        raise AssertionError("the rebuild was not interrupted")
    assert sorted(live.select(ESSAI.names), key=repr) == before  # old rows, old position
    assert Essai(live).position(f"{app.name}.essai") == position
    assert recorded_versions(settings)["essai"] == 1
    monkeypatch.setattr(Essai, "fold", fold)
    [upgrade] = upgrade_read_models(app, kinds)  # the next start: from scratch, then swapped
    assert upgrade.rebuilt
    assert upgrade.position == position
    assert {v for (v,) in live.select(("version",))} == {2}
    assert dict(live.select(("case_id", "events"))) == _counts(app)
    assert live.max_tracking_id(f"{app.name}.essai~v2") is None
    assert set(catalog(settings, {"essai", "essai_v2"})) == {"essai"}
    app.close()
