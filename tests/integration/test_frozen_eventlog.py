"""Logs written by earlier releases read and fold to the figures those releases computed, on a
real SQLite file and on PostgreSQL; a row in an older shape reads as today's through its
upcasters; a row of a version newer than this release stops the readers with its position.

The frozen logs are under tests/fixtures/eventlog/, one folder per release
(`scripts/freeze_eventlog.py`, tests/fixtures/eventlog/README.md).
"""

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.eventlog.mapper import (
    CODEC,
    DECODERS,
    TOPICS,
    Codec,
    NewerEventVersion,
    parse_topic,
    topics_of,
    versioned_topic,
)
from adapters.eventlog.reading import (
    IllegibleEvent,
    case_history,
    events_of,
    histories,
    read_batch,
)
from adapters.eventlog.recorders import SPARSE_TOPICS
from adapters.eventlog.store import Parcours
from adapters.readmodels.models import open_suivi_store
from adapters.readmodels.projector import Projector
from adapters.readmodels.suivi_rebuild import rebuild_suivi
from adapters.readmodels.tables import PostgresTable
from adapters.settings import Settings
from domain.catalogue import ALL_EVENT_TYPES
from domain.events import OrientationDecidee, Recorded, SortieEnregistree
from domain.structures import StructureDeclaree
from domain.upcasters import Payload
from scripts.freeze_eventlog import EVENTS, FIGURES, clock, figures, load_rows, read_rows

FROZEN_ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "eventlog"
FROZEN = sorted(p for p in FROZEN_ROOT.iterdir() if (p / FIGURES).exists())

ABSENT: dict[str, str] = {}
"""Event types of the catalogue the newest frozen log may lack, each with why (none today: a
new type means a new frozen log beside the others, or an entry here saying why not yet)."""


def _key(folder: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in folder.name.split("."))


@pytest.fixture
def store(settings: Settings) -> Iterator[Parcours]:
    app = Parcours(settings, clock=clock)
    yield app
    app.close()


def _expected(folder: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((folder / FIGURES).read_text())
    return found


def _recorded(found: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Today's figures that a folder recorded: a figure added by a later release (the EP
    procedure's read-outs, say) is absent from older folders and compared in the newer ones."""
    return {key: found.get(key, f"(no longer computed: {key})") for key in expected}


@pytest.mark.parametrize("folder", FROZEN, ids=[p.name for p in FROZEN])
def test_a_frozen_log_folds_to_the_figures_its_release_recorded(
    store: Parcours, folder: Path
) -> None:
    assert load_rows(store, read_rows(folder / EVENTS)) == _expected(folder)["events"]
    expected = _expected(folder)
    assert _recorded(figures(store, expected["fields"]), expected) == expected


def test_the_newest_frozen_log_holds_every_event_type_of_the_catalogue() -> None:
    newest = max(FROZEN, key=_key)
    names = set()
    for row in read_rows(newest / EVENTS):
        parsed = parse_topic(row["topic"])
        assert parsed is not None, row["topic"]
        names.add(parsed[0])
    missing = {kind.__name__ for kind in ALL_EVENT_TYPES} - names - set(ABSENT)
    assert not missing, (
        f"{sorted(missing)} not in {newest.name}'s frozen log: freeze a new one beside it "
        "(python -m scripts.freeze_eventlog --out tests/fixtures/eventlog/<release>) or say why "
        "in ABSENT"
    )


def test_the_frozen_logs_stay_small() -> None:
    for folder in FROZEN:
        assert (folder / EVENTS).stat().st_size < 2_000_000


# --- a real upcast: two types whose shape is said to have changed -----------------------------
# Suppose release 0.1.0 stored a sortie's kind as `motif_sortie` and its date as `date_sortie`,
# and a structure's posts as `postes_etp`; the next release renamed them to today's fields and
# raised both types to version 2. Rows written by 0.1.0 stay as they are (topic = the class
# name, version 1); the next release's upcasters bring them to today's shape when read.


def _sortie_v1_to_v2(p: Payload) -> Payload:
    p = dict(p)
    p["effective_on"] = p.pop("date_sortie")
    p["type_sortie"] = p.pop("motif_sortie")
    return p


def _structure_v1_to_v2(p: Payload) -> Payload:
    p = dict(p)
    p["etp"] = p.pop("postes_etp", None)
    return p


NEXT = Codec(
    ALL_EVENT_TYPES,
    upcasters={
        (SortieEnregistree, 1): _sortie_v1_to_v2,
        (StructureDeclaree, 1): _structure_v1_to_v2,
    },
    versions={SortieEnregistree: 2, StructureDeclaree: 2},
)
"""The next release's codec, as this test describes it."""


def _in_old_shape(row: dict[str, Any]) -> dict[str, Any]:
    """A frozen row of a changed type as the old release would have stored it (by hand)."""
    if row["topic"] not in ("SortieEnregistree", "StructureDeclaree"):
        return row
    payload = json.loads(row["state"])
    if row["topic"] == "SortieEnregistree":
        payload["date_sortie"] = payload.pop("effective_on")
        payload["motif_sortie"] = payload.pop("type_sortie")
    else:
        payload["postes_etp"] = payload.pop("etp", None)
    return {**row, "state": json.dumps(payload, ensure_ascii=False)}


@pytest.fixture
def next_release(monkeypatch: pytest.MonkeyPatch) -> Codec:
    """Every reader of the log decodes as the next release would (one dict: `DECODERS`)."""
    for topic, decoder in NEXT.decoders.items():
        monkeypatch.setitem(DECODERS, topic, decoder)
        monkeypatch.setitem(TOPICS, topic, NEXT.kinds[topic])
    return NEXT


def test_rows_in_an_old_shape_are_illegible_without_their_upcaster(store: Parcours) -> None:
    folder = max(FROZEN, key=_key)
    load_rows(store, [_in_old_shape(r) for r in read_rows(folder / EVENTS)])
    with pytest.raises(IllegibleEvent) as raised:
        for _ in histories(store):
            pass
    assert raised.value.topic in ("SortieEnregistree", "StructureDeclaree")


def test_an_old_shape_reads_as_todays_and_folds_to_the_same_figures(
    store: Parcours, next_release: Codec
) -> None:
    folder = max(FROZEN, key=_key)
    rows = read_rows(folder / EVENTS)
    old = [_in_old_shape(r) for r in rows]
    changed = sum(a != b for a, b in zip(rows, old, strict=True))
    n_sorties = sum(r["topic"] == "SortieEnregistree" for r in rows)
    assert n_sorties > 50
    assert changed == n_sorties + sum(r["topic"] == "StructureDeclaree" for r in rows)
    load_rows(store, old)

    # Each reader gives today's shape: the batch path, the library's, the filtered one.
    sorties = [r for r in read_batch(store, 0, 10**6) if isinstance(r.event, SortieEnregistree)]
    assert len(sorties) == n_sorties
    one = sorties[0]
    assert case_history(store, one.originator_id)[one.originator_version - 1].event == one.event
    assert store.history(one.originator_id)[one.originator_version - 1].event == one.event
    structures = list(events_of(store, StructureDeclaree))
    assert {(s.structure_id, s.etp) for s in structures} >= {("aave-1", 0.5), ("ccas-1", None)}

    # And the read models folded from them give the figures the frozen release recorded.
    expected = _expected(folder)
    assert _recorded(figures(store, expected["fields"]), expected) == expected


def test_each_type_is_written_under_its_current_versions_topic(store: Parcours) -> None:
    for kind in ALL_EVENT_TYPES:
        assert CODEC.topic_of(kind) == versioned_topic(kind.__name__, kind.schema_version)
    assert NEXT.topic_of(SortieEnregistree) == "SortieEnregistree@2"
    assert NEXT.topics_of([SortieEnregistree]) == ["SortieEnregistree", "SortieEnregistree@2"]
    rows = read_rows(max(FROZEN, key=_key) / EVENTS)[:30]
    load_rows(store, rows)
    written = read_batch(store, 0, 30)
    store.append_many([Recorded(UUID(int=0xABF), 1, written[0].event)])
    (note,) = store.recorder.select_notifications(30, 1, inclusive_of_start=False)
    assert note.topic == CODEC.topic_of(type(written[0].event))
    assert store.history(UUID(int=0xABF))[0].event == written[0].event


# --- a version newer than this release ------------------------------------------------------


def _orientation_row(case_id: UUID, version: int, topic: str) -> StoredEvent:
    state = (
        b'{"type":"OrientationDecidee","effective_on":"2024-02-01","meta":{"recorded_at":'
        b'"2024-02-01T09:00:00Z","recorded_by":"a","request_id":"r"},"type_orientation":'
        b'"sociale","organisme":"ccas","structure_id":"ccas-1","mode":"decidee",'
        b'"nouveau_champ":"une version future"}'
    )
    return StoredEvent(case_id, version, topic, state)


def test_a_newer_version_stops_every_reader_with_its_position(store: Parcours) -> None:
    folder = max(FROZEN, key=_key)
    load_rows(store, read_rows(folder / EVENTS)[:200])
    case = UUID(int=0xABC)
    store.recorder.insert_events([_orientation_row(case, 1, "OrientationDecidee@7")])
    position = store.max_position()
    projector = Projector(store)

    with pytest.raises(NewerEventVersion) as raised:
        read_batch(store, 0, 10**6)
    assert raised.value.position == position
    assert f"position {position}" in str(raised.value)
    assert "version 7 of OrientationDecidee" in str(raised.value)
    assert "up to version 1" in str(raised.value)
    with pytest.raises(NewerEventVersion):
        case_history(store, case)
    with pytest.raises(NewerEventVersion):
        store.history(case)
    with pytest.raises(NewerEventVersion):  # skipped by no topic filter
        for _ in histories(store):
            pass
    with pytest.raises(NewerEventVersion):  # not set aside: no model moves past it
        projector.catch_up()
    assert max(projector.positions().values()) < position
    assert projector.quarantine.held_by_model() == {}
    with pytest.raises(NewerEventVersion):  # PostgreSQL: the parallel rebuild's own read
        projector.rebuild()


@pytest.mark.postgres
def test_a_newer_version_stops_the_parallel_rebuild(pg_settings: Settings) -> None:
    """The rebuild reads only the follow-up's topics: a newer version of one of them is read
    too, and refused, rather than left out of the rebuilt rows."""
    app = Parcours(pg_settings, clock=clock)
    try:
        load_rows(app, read_rows(max(FROZEN, key=_key) / EVENTS)[:200])
        app.recorder.insert_events([_orientation_row(UUID(int=0xABE), 1, "OrientationDecidee@3")])
        table = open_suivi_store(app).table
        assert isinstance(table, PostgresTable)
        with pytest.raises(NewerEventVersion) as raised:
            rebuild_suivi(app, table, f"{app.name}.suivi", workers=1)
        assert raised.value.position == app.max_position()
    finally:
        app.close()


def test_an_unknown_type_is_still_illegible_not_newer(store: Parcours) -> None:
    store.recorder.insert_events([_orientation_row(UUID(int=0xABD), 1, "Inconnu@2")])
    with pytest.raises(IllegibleEvent) as raised:
        read_batch(store, 0, 10)
    assert not isinstance(raised.value, NewerEventVersion)


# --- what the topics' filters must name -----------------------------------------------------


def test_the_sparse_index_lists_every_version_of_its_types() -> None:
    """recorders.SPARSE_TOPICS must name each version's topic of its types, else events_of
    leaves the partial index for a walk of the log (docs/eventlog.md, "Event versions")."""
    for topic in SPARSE_TOPICS:
        kind = TOPICS[topic]
        assert set(topics_of(kind)) <= set(SPARSE_TOPICS), kind.__name__


def test_the_frozen_log_starts_where_the_generator_starts() -> None:
    """The frozen log is the deterministic département the script describes."""
    rows = read_rows(max(FROZEN, key=_key) / EVENTS)
    first = json.loads(rows[0]["state"])
    assert rows[0]["topic"] == "EntreeEnregistree"
    assert date.fromisoformat(first["effective_on"]) >= date(2022, 1, 1)
    assert OrientationDecidee.__name__ in {r["topic"] for r in rows}
