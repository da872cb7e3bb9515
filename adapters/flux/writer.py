"""Where an import batch is looked up and written.

On PostgreSQL a batch's new identities, their search terms and its events go in one transaction on the event
store's own pooled connection, by binary COPY (the rows are prepared in Python, the server only
parses fixed-width binary fields), under the library's table lock and NOTIFY: notification ids
are drawn in commit order, as for any other append, and the new events are linked into the
log's hash chain in the same transaction. A blind index or a case version taken
meanwhile by another writer is a unique violation, which the datastore turns into the library's
IntegrityError: nothing of the batch is written and the importer replays it.

On SQLite (tests, single-user runs) the identities and the events go through the stores' own
statements.
"""

import struct
from collections.abc import Iterable, Sequence
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Identifier

from adapters.eventlog.recorders import PostgresRecorder
from adapters.eventlog.store import Parcours
from adapters.identity import TERM_SIZE, Identite, IdentityStore
from adapters.metrics.counted import count_appended
from domain.events import Recorded

Person = tuple[str, UUID, Identite]

# Binary COPY: a signature, then per row a field count and each field as its length and bytes
# (uuid 16, bigint 8; case ids as 32 hex characters, blind indexes as 64, nonces 12 bytes,
# search terms 16).
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_EVENT = struct.Struct(">hi16siqi").pack
_IDENTITE = struct.Struct(">hi32si64si12si").pack
_CLE = struct.Struct(">hi32si12si").pack
_TERME = struct.Struct(f">hi{TERM_SIZE}si32s").pack


class Payload(msgspec.Struct, frozen=True):
    """A batch's rows in PostgreSQL's binary COPY format, one buffer per table: encoded and
    sealed while the file is still being read, sent as they are once it has validated."""

    identite: bytes
    cle: bytes
    recherche: bytes
    events: bytes
    people: int
    count: int
    types: dict[str, int] = msgspec.field(default_factory=dict)
    """Events by type, counted by the metrics once written."""


def _events(stored: Iterable[tuple[UUID, int, str, bytes]]) -> bytes:
    out = bytearray(_SIGNATURE)
    for case_id, version, topic, state in stored:
        name = topic.encode()
        out += _EVENT(4, 16, case_id.bytes, 8, version, len(name))
        out += name
        out += struct.pack(">i", len(state))
        out += state
    out += _TRAILER
    return bytes(out)


class BatchStore:
    """The lookups and writes of an import batch, on whichever store the application uses."""

    def __init__(self, app: Parcours, identities: IdentityStore) -> None:
        self.app = app
        self.identities = identities
        recorder = app.recorder
        self.recorder = recorder if isinstance(recorder, PostgresRecorder) else None
        schema = Identifier(app.settings.postgres_schema)
        self._find = SQL(
            "SELECT index_aveugle, case_id FROM {}.identite WHERE index_aveugle = ANY(%s)"
        ).format(schema)
        self._copy_identite = SQL(
            "COPY {}.identite (case_id, index_aveugle, nonce, donnees) FROM STDIN (FORMAT BINARY)"
        ).format(schema)
        self._copy_recherche = SQL(
            "COPY {}.identite_recherche (terme, case_id) FROM STDIN (FORMAT BINARY)"
        ).format(schema)
        self._copy_cle = SQL(
            "COPY {}.identite_cle (case_id, nonce, cle) FROM STDIN (FORMAT BINARY)"
        ).format(schema)
        self._copy_events = SQL(
            "COPY {}.{} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ).format(schema, Identifier(recorder.events_table_name))

    def encode(self, people: Sequence[Person], recorded: Sequence[Recorded]) -> Payload | None:
        """The batch's rows ready for COPY (PostgreSQL only): identities sealed, events encoded."""
        if self.recorder is None:
            return None
        to_stored = self.app.mapper.to_stored_event
        stored = [to_stored(r) for r in recorded]
        events = _events(
            (e.originator_id, e.originator_version, e.topic, e.state)  # type: ignore[misc]
            for e in stored
        )
        records, keys = self.identities.seal(people) if people else ([], [])
        identite = bytearray(_SIGNATURE)
        for case_hex, blind, nonce, sealed in records:
            identite += _IDENTITE(
                4, 32, case_hex.encode(), 64, blind.encode(), 12, nonce, len(sealed)
            )
            identite += sealed
        identite += _TRAILER
        cle = bytearray(_SIGNATURE)
        for case_hex, key_nonce, wrapped in keys:
            cle += _CLE(3, 32, case_hex.encode(), 12, key_nonce, len(wrapped))
            cle += wrapped
        cle += _TRAILER
        recherche = bytearray(_SIGNATURE)
        for term, case_hex in self.identities.search_rows((c, i) for _, c, i in people):
            recherche += _TERME(2, TERM_SIZE, term, 32, case_hex.encode())
        recherche += _TRAILER
        types: dict[str, int] = {}
        for e in stored:
            types[e.topic] = types.get(e.topic, 0) + 1
        return Payload(
            bytes(identite), bytes(cle), bytes(recherche), events, len(people), len(stored), types
        )

    def find(self, blinds: Iterable[str]) -> dict[str, UUID]:
        """Cases already known for these blind indexes."""
        if self.recorder is None:
            with self.identities.db.transaction() as tx:
                return self.identities.find(tx, blinds)
        with self.recorder.datastore.transaction(commit=False) as curs:
            curs.execute(self._find, (list(set(blinds)),))
            return {r["index_aveugle"]: UUID(r["case_id"]) for r in curs.fetchall()}

    def write(
        self,
        people: Sequence[Person],
        refresh: Sequence[tuple[UUID, Identite]],
        recorded: Sequence[Recorded],
        payload: Payload | None = None,
    ) -> int:
        """Store the batch's new people and events; returns how many known identities a later
        flux changed. IntegrityError when another writer got there first."""
        refreshed = 0
        if refresh or (people and self.recorder is None):
            with self.identities.db.transaction() as tx:
                if self.recorder is None:
                    self.identities.insert(tx, people)
                    stored = self.identities.find(tx, (b for b, _, _ in people))
                    if any(stored.get(b) != case_id for b, case_id, _ in people):
                        raise IntegrityError("identité enregistrée entre-temps par un autre import")
                refreshed = self.identities.refresh(tx, refresh)
        if self.recorder is None:
            if recorded:
                self.app.append_many(recorded)
            return refreshed
        if payload is None:
            payload = self.encode(people, recorded)
            assert payload is not None
        if payload.people or payload.count:
            self._copy(payload)
            count_appended(payload.types)
        return refreshed

    def _copy(self, payload: Payload) -> None:
        assert self.recorder is not None
        with self.recorder.datastore.transaction(commit=True) as curs:
            self.recorder._lock_table(curs)
            self.recorder._notify_channel(curs)
            before = self.recorder.position_locked(curs)
            if payload.people:
                with curs.copy(self._copy_identite) as cp:
                    cp.write(payload.identite)
                with curs.copy(self._copy_cle) as cp:
                    cp.write(payload.cle)
                with curs.copy(self._copy_recherche) as cp:
                    cp.write(payload.recherche)
            if payload.count:
                with curs.copy(self._copy_events) as cp:
                    cp.write(payload.events)
                # COPY returns no positions: the new rows are linked where they lie.
                self.recorder.chain_written(curs, before)
