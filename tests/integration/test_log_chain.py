"""The log's hash chain on both stores: an untouched log verifies; one payload altered, one row
deleted, one row inserted in the database are each reported at their position; a log without
links adopts the chain; signed checkpoints prove the log unchanged up to them."""

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import msgspec
import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from adapters import synthetic
from adapters.eventlog.chain import GENESIS
from adapters.eventlog.chain_shares import SCREEN, chain_reader
from adapters.eventlog.reading import chain_tables, read_batch
from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.services import ledger


@pytest.fixture
def loaded(settings: Settings) -> Iterator[Parcours]:
    app = Parcours(settings)
    synthetic.load(app, people=60, years=2, seed=11, start=date(2024, 1, 1), batch_events=150)
    yield app
    app.close()


def _sql(app: Parcours, query: str, params: tuple[Any, ...] = ()) -> None:
    """A statement run on the database behind the application's back, as a hand-made edit
    would; `{events}` and `{chain}` name the tables."""
    s = app.settings
    if s.store == "sqlite":
        text = query.format(events=app.recorder.events_table_name, chain="chaine")
        text = text.replace("notification_id", "rowid").replace("%s", "?")
        with sqlite3.connect(s.sqlite_file) as conn:
            conn.execute(text, params)
        return
    chain = app.recorder.events_table_name.removesuffix("_events") + "_chaine"
    with psycopg.connect(**s.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(
            SQL(query).format(
                events=Identifier(s.postgres_schema, app.recorder.events_table_name),
                chain=Identifier(s.postgres_schema, chain),
            ),
            params,
        )


def _event(app: Parcours, position: int) -> tuple[uuid.UUID, str]:
    recorded = read_batch(app, position - 1, 1)[0]
    assert recorded.position == position
    return recorded.originator_id, type(recorded.event).__name__


def test_an_untouched_log_verifies(loaded: Parcours) -> None:
    result = ledger.verify(loaded, batch=97)
    assert result.conforme, result.ruptures
    assert result.evenements == loaded.max_position() > 300
    assert result.jusqu_a == loaded.max_position()


def test_one_altered_payload_is_reported_at_its_position(loaded: Parcours) -> None:
    case_id, kind = _event(loaded, 170)
    _sql(loaded, "UPDATE {events} SET state = %s WHERE notification_id = %s", (b"{}", 170))
    result = ledger.verify(loaded, batch=64)
    assert not result.conforme
    first = result.premiere_rupture
    assert first is not None
    assert (first.kind, first.position, first.case_id, first.type) == (
        "modifie",
        170,
        case_id,
        kind,
    )
    assert len(result.ruptures) == 1


def test_one_deleted_row_is_reported_at_its_position(loaded: Parcours) -> None:
    _sql(loaded, "DELETE FROM {events} WHERE notification_id = %s", (203,))
    first = ledger.verify(loaded, batch=50).premiere_rupture
    assert first is not None
    assert (first.kind, first.position) == ("supprime", 203)


def test_a_row_deleted_with_its_link_is_reported(loaded: Parcours) -> None:
    _sql(loaded, "DELETE FROM {events} WHERE notification_id = %s", (88,))
    _sql(loaded, "DELETE FROM {chain} WHERE position = %s", (88,))
    result = ledger.verify(loaded)
    assert result.premiere_rupture is not None
    assert (result.premiere_rupture.kind, result.premiere_rupture.position) == ("supprime", 88)


def test_one_inserted_row_is_reported_with_its_case(loaded: Parcours) -> None:
    end = loaded.max_position()
    intruder = uuid.uuid4()
    _, kind = _event(loaded, 5)
    state = read_state(loaded, 5)
    case = intruder.hex if loaded.settings.store == "sqlite" else intruder
    _sql(
        loaded,
        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s)",
        (case, 1, kind, state),
    )
    # An append after the intrusion links over it: the intruder stays reported.
    synthetic.load(loaded, people=2, years=1, seed=99, start=date(2024, 6, 1))
    result = ledger.verify(loaded, batch=128)
    first = result.premiere_rupture
    assert first is not None
    assert (first.kind, first.position, first.case_id, first.type) == (
        "insere",
        end + 1,
        intruder,
        kind,
    )
    assert len(result.ruptures) == 1


def read_state(app: Parcours, position: int) -> bytes:
    from adapters.eventlog.reading import chained_batch

    rows, _ = chained_batch(app, position - 1, 1, position)
    return bytes(rows[0][4])


def test_a_log_without_links_adopts_the_chain(loaded: Parcours, settings: Settings) -> None:
    _sql(loaded, "DELETE FROM {chain}")
    assert not ledger.verify(loaded).conforme
    again = Parcours(settings)
    try:
        assert again.recorder.last_link() is not None
        assert ledger.verify(again, batch=100).conforme
    finally:
        again.close()


def test_a_checkpoint_proves_the_log_up_to_it(loaded: Parcours) -> None:
    point = ledger.checkpoint(loaded)
    assert point.position == loaded.max_position()
    assert ledger.checkpoints(loaded) == [point]
    synthetic.load(loaded, people=3, years=1, seed=5, start=date(2024, 3, 1))
    proved = ledger.verify(loaded, point=point, batch=77)
    assert proved.conforme
    assert proved.point is not None
    assert proved.point.conforme
    assert proved.point.racine_recalculee == point.racine
    since = ledger.verify(loaded, depuis=point)
    assert since.conforme
    assert since.evenements == loaded.max_position() - point.position

    # The file a reader keeps, read back.
    assert ledger.read_point(msgspec.json.encode(point)) == point

    forged = msgspec.structs.replace(point, position=point.position - 1)
    refused = ledger.verify(loaded, point=forged)
    assert refused.point is not None
    assert not refused.point.signature_valide
    assert not refused.conforme
    other = msgspec.structs.replace(point, signature="00" * 64)
    assert not ledger.verify(loaded, depuis=other).conforme


def test_a_log_changed_before_a_checkpoint_fails_against_it(loaded: Parcours) -> None:
    point = ledger.checkpoint(loaded, motif="test")
    _sql(loaded, "UPDATE {events} SET state = %s WHERE notification_id = %s", (b"{}", 12))
    # Even a chain recomputed over the change (links rewritten) does not match the point.
    _sql(loaded, "DELETE FROM {chain}")
    loaded.recorder.adopt_chain()
    assert ledger.verify(loaded).conforme
    against = ledger.verify(loaded, point=point)
    assert not against.conforme
    assert against.point is not None
    assert against.point.signature_valide
    assert against.point.racine_recalculee not in (None, point.racine)
    assert not ledger.verify(loaded, depuis=point).conforme


def test_the_signing_key_comes_from_the_settings_and_production_has_no_fallback(
    sqlite_settings: Settings,
) -> None:
    from adapters.checkpoint_key import public_hex, signing_key

    local = signing_key(sqlite_settings)
    assert public_hex(signing_key(sqlite_settings)) == public_hex(local)  # the same file
    seed = "11" * 32
    given = msgspec.structs.replace(sqlite_settings, cle_points_controle=seed)
    assert public_hex(signing_key(given)) != public_hex(local)
    with pytest.raises(ValueError, match="PARCOURS_CLE_POINTS_CONTROLE"):
        signing_key(msgspec.structs.replace(sqlite_settings, cle_points_controle="abc"))
    with pytest.raises(ValueError, match="PARCOURS_CLE_POINTS_CONTROLE"):
        signing_key(msgspec.structs.replace(sqlite_settings, auth_mode="oidc"))
    problems = msgspec.structs.replace(sqlite_settings, auth_mode="oidc").production_problems()
    assert any(p.startswith("PARCOURS_CLE_POINTS_CONTROLE : ") for p in problems)


def test_shares_checked_in_parallel_find_what_one_walk_finds(loaded: Parcours) -> None:
    """Three processes, each taking up from the stored link before its share, report the
    same breaks in the same order as one walk, breaks on the shares' edges included."""
    end = loaded.max_position()
    first_edge, second_edge = end // 3, end * 2 // 3
    _sql(loaded, "UPDATE {events} SET state = %s WHERE notification_id = %s", (b"{}", 40))
    _sql(loaded, "UPDATE {events} SET state = %s WHERE notification_id = %s", (b"{}", first_edge))
    _sql(loaded, "DELETE FROM {events} WHERE notification_id = %s", (second_edge,))
    _sql(loaded, "DELETE FROM {chain} WHERE position = %s", (second_edge,))
    _sql(loaded, "DELETE FROM {events} WHERE notification_id = %s", (second_edge + 5,))
    one = ledger.verify(loaded, batch=64, workers=1)
    shared = ledger.verify(loaded, batch=64, workers=3, min_share=1)
    found = [(b.kind, b.position) for b in shared.ruptures]
    assert found == [(b.kind, b.position) for b in one.ruptures]
    assert found == [
        ("modifie", 40),
        ("modifie", first_edge),
        ("supprime", second_edge),
        ("supprime", second_edge + 5),
    ]
    assert shared.premiere_rupture == one.premiere_rupture
    assert shared.evenements == one.evenements == end - 2


def test_a_checkpoint_is_proved_by_shares_checked_in_parallel(loaded: Parcours) -> None:
    point = ledger.checkpoint(loaded, "demande")
    synthetic.load(loaded, people=3, years=1, seed=5, start=date(2024, 6, 1))
    proved = ledger.verify(loaded, point=point, workers=2, min_share=1)
    assert proved.conforme
    assert proved.point is not None
    assert proved.point.conforme
    _sql(loaded, "UPDATE {events} SET state = %s WHERE notification_id = %s", (b"{}", 3))
    refused = ledger.verify(loaded, point=point, workers=2, min_share=1)
    assert refused.point is not None
    assert not refused.point.conforme


def test_postgresql_recomputes_each_link_as_the_walk_does(loaded: Parcours) -> None:
    """The database's screening (SHA-256 in SQL over the row and the stored link before)
    finds an untouched log whole, so verification walks nothing in Python; and finds the
    range holding an altered row, which the walk then names."""
    if loaded.settings.store != "postgres":
        pytest.skip("the screening runs on PostgreSQL")
    end = loaded.max_position()
    with chain_reader(chain_tables(loaded)) as fetch:
        rows, bad, last = fetch(SCREEN, (0, GENESIS, 0, end, 0, end))[0]
        assert (rows, bad, last) == (end, 0, end)
        _sql(loaded, "UPDATE {events} SET state = %s WHERE notification_id = %s", (b"{}", 77))
        _, bad, _ = fetch(SCREEN, (0, GENESIS, 0, end, 0, end))[0]
        assert bad == 1  # the altered row alone: the next link follows the stored one
