"""Identity data (name, NIR, birth date, address) kept apart from the log, encrypted per person.

Each person's record is sealed with AES-GCM under a key of their own, itself sealed under the
département master key and kept in another table. Erasure deletes the key and the record: the
events (which only ever carry the case id and the `Profil`) and every statistic stay, and nothing
personal stays readable. A blind index (HMAC of organisme, file number and NIR under a
département secret) finds the case of a person named again by a later flux without storing the
NIR in clear.

Keys from the département's secrets: the master key is derived with HKDF-SHA256 (`info` naming
its purpose); person keys wrapped that way carry a leading version byte. Person keys wrapped
before (48 bytes, no version byte) were wrapped under SHA-256(`master:` + secret) and are still
read and erased. The blind index keeps its first derivation, SHA-256(`index:` + secret), on
purpose: it is a lookup key, not a cipher key, and every indexed person and every household
reference already in the log (`numero_dossier`) was computed with it; another derivation would
make a later flux open new cases for known persons.

The search index (`identite_recherche`) lets agents find a person by name, file number or NIR
without any of these in clear: each row is a case id and a keyed hash (HMAC-SHA256 under a key
of its own derived from the index secret, cut to 128 bits) of one term of `identity_search`.
Its rows are written in the transaction that stores or re-seals the identity and deleted in the
one that erases it.
"""

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adapters.identity_search import person_terms
from adapters.migrations import ensure_migrated
from adapters.settings import Settings
from adapters.sql import SQLITE_CHUNK, Db, Tx


class Identite(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the flux says of a person that only agents handling their case may read."""

    organisme: str
    matricule: str
    nir: str | None = None
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: list[str] = []
    date_naissance: date | None = None
    commune_naissance: str | None = None
    adresse: list[str] = []
    code_postal: str | None = None
    commune: str | None = None
    identifiant_pole_emploi: str | None = None


MASTER_INFO = b"parcours/identite/cle-maitre/v2"
WRAPPED_V2 = b"\x02"
"""First byte of a person key wrapped under the HKDF master key (legacy wraps have none)."""
SEARCH_INFO = b"parcours/identite/recherche/v1"
TERM_SIZE = 16
"""Bytes of HMAC kept per search term: 128 bits, no collision among a département's terms."""
LEGACY_WRAPPED_SIZE = 48
"""32-byte person key + 16-byte AES-GCM tag, as wrapped before the version byte existed."""


def derive(secret: str, info: bytes) -> bytes:
    """A 256-bit key for one purpose (`info`) from a département secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


def legacy_key(secret: str, purpose: bytes) -> bytes:
    """The first derivation, SHA-256(purpose + secret): the blind index's, and the master key
    of person keys wrapped before HKDF."""
    return hashlib.sha256(purpose + secret.encode()).digest()


def normalise_nir(nir: str | None) -> str:
    """The 13 characters that name a person (the 2-digit control key is optional in the flux)."""
    return (nir or "").strip().upper()[:13]


class IdentityStore:
    """The two tables `identite` and `identite_cle`, on the configured store."""

    def __init__(self, settings: Settings, *, pooled: bool = False) -> None:
        self.db = Db(settings, pooled=pooled)
        self._index_key = legacy_key(settings.identity_index_secret, b"index:")
        self._search_key = derive(settings.identity_index_secret, SEARCH_INFO)
        self._master = AESGCM(derive(settings.identity_master_key, MASTER_INFO))
        self._legacy_master = AESGCM(legacy_key(settings.identity_master_key, b"master:"))
        self._encode = msgspec.json.Encoder().encode
        self._decode = msgspec.json.Decoder(Identite).decode
        ensure_migrated(settings)  # its tables: migration 1 (adapters/migrations.py)

    def close(self) -> None:
        """Close the pooled connections, if any (`Db.close`)."""
        self.db.close()

    def _unwrap(self, key_nonce: bytes, wrapped: bytes, case_id: UUID) -> AESGCM:
        """The person's key, whichever derivation of the master key wrapped it."""
        if len(wrapped) == LEGACY_WRAPPED_SIZE:
            return AESGCM(self._legacy_master.decrypt(key_nonce, wrapped, case_id.bytes))
        if wrapped[:1] != WRAPPED_V2:
            msg = f"clé d'identité de version inconnue ({wrapped[:1].hex()})"
            raise ValueError(msg)
        return AESGCM(self._master.decrypt(key_nonce, wrapped[1:], case_id.bytes))

    def blind_index(self, organisme: str, matricule: str, nir: str | None) -> str:
        message = f"{organisme}|{matricule.strip()}|{normalise_nir(nir)}".encode()
        return hmac.digest(self._index_key, message, "sha256").hex()

    def term(self, term: str) -> bytes:
        """A search term as the index keeps it: keyed, so the table tells nothing by itself."""
        return hmac.digest(self._search_key, term.encode(), "sha256")[:TERM_SIZE]

    def search_rows(self, people: Iterable[tuple[UUID, Identite]]) -> list[tuple[bytes, str]]:
        """The `identite_recherche` rows of these people: (hashed term, case id), in the
        index's order (about a third quicker to insert into its B-tree than in random order)."""
        term = self.term
        return sorted(
            (term(t), case_id.hex)
            for case_id, i in people
            for t in person_terms(
                i.organisme, i.matricule, i.nir, [i.nom, i.nom_naissance, *i.prenoms]
            )
        )

    def _index(self, tx: Tx, rows: Sequence[tuple[bytes, str]]) -> None:
        if not rows:
            return
        if tx.postgres:
            tx.execute(
                "INSERT INTO identite_recherche SELECT * FROM unnest(%b::bytea[], %b::text[]) "
                "ON CONFLICT DO NOTHING",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        tx.executemany("INSERT INTO identite_recherche VALUES (%s,%s) ON CONFLICT DO NOTHING", rows)

    def _unindex(self, tx: Tx, case_ids: Sequence[str]) -> None:
        if tx.postgres:
            tx.execute("DELETE FROM identite_recherche WHERE case_id = ANY(%s)", (list(case_ids),))
            return
        for start in range(0, len(case_ids), SQLITE_CHUNK):
            chunk = case_ids[start : start + SQLITE_CHUNK]
            marks = ",".join(["%s"] * len(chunk))
            tx.execute(f"DELETE FROM identite_recherche WHERE case_id IN ({marks})", chunk)

    def search(self, terms: Sequence[str], limit: int) -> list[UUID]:
        """The cases (at most `limit`, by id) whose person has every one of these terms."""
        wanted = sorted({self.term(t) for t in terms})
        if not wanted:
            return []
        tail = "GROUP BY case_id HAVING COUNT(*) = %s ORDER BY case_id LIMIT %s"
        with self.db.transaction() as tx:
            if tx.postgres:
                rows = tx.execute(
                    f"SELECT case_id FROM identite_recherche WHERE terme = ANY(%s) {tail}",
                    (wanted, len(wanted), limit),
                )
            else:
                marks = ",".join(["%s"] * len(wanted))
                rows = tx.execute(
                    f"SELECT case_id FROM identite_recherche WHERE terme IN ({marks}) {tail}",
                    [*wanted, len(wanted), limit],
                )
        return [UUID(str(case_id)) for (case_id,) in rows]

    def index_missing(self, batch: int = 1000) -> int:
        """Index the identities stored before the search index existed (or by a version that
        did not write it); returns how many. Idempotent: an indexed person is left alone. Each
        batch's records are locked while read, so an erasure meanwhile waits and then removes
        the terms too."""
        done = 0
        lock = " FOR UPDATE OF i" if self.db.postgres else ""
        while True:
            with self.db.transaction() as tx:
                rows = tx.execute(
                    "SELECT i.case_id, i.nonce, i.donnees, k.nonce, k.cle FROM identite i "
                    "JOIN identite_cle k ON k.case_id = i.case_id WHERE NOT EXISTS "
                    "(SELECT 1 FROM identite_recherche r WHERE r.case_id = i.case_id) "
                    f"ORDER BY i.case_id LIMIT %s{lock}",
                    (batch,),
                )
                people = [self._opened(row) for row in rows]
                self._index(tx, self.search_rows(people))
            done += len(people)
            if len(rows) < batch:
                return done

    def _opened(self, row: Sequence[Any]) -> tuple[UUID, Identite]:
        """A row (case id, nonce, record, key nonce, wrapped key) decrypted."""
        case_id = UUID(str(row[0]))
        nonce, data, key_nonce, wrapped = (bytes(v) for v in row[1:])
        person_key = self._unwrap(key_nonce, wrapped, case_id)
        return case_id, self._decode(person_key.decrypt(nonce, data, case_id.bytes))

    def find(self, tx: Tx, blinds: Iterable[str]) -> dict[str, UUID]:
        """Cases already known for these blind indexes."""
        wanted = list(set(blinds))
        found: dict[str, UUID] = {}
        if tx.postgres:
            rows = tx.execute(
                "SELECT index_aveugle, case_id FROM identite WHERE index_aveugle = ANY(%s)",
                (wanted,),
            )
            return {blind: UUID(case_id) for blind, case_id in rows}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join(["%s"] * len(chunk))
            for blind, case_id in tx.execute(
                f"SELECT index_aveugle, case_id FROM identite WHERE index_aveugle IN ({marks})",
                chunk,
            ):
                found[blind] = UUID(case_id)
        return found

    def seal(
        self, people: Sequence[tuple[str, UUID, Identite]]
    ) -> tuple[list[tuple[str, str, bytes, bytes]], list[tuple[str, bytes, bytes]]]:
        """The rows of `identite` and `identite_cle` for new people: each record sealed under a
        fresh key of its own, that key sealed under the master key (random bytes drawn once for
        the whole batch: one system call instead of three per person)."""
        encode, master = self._encode, self._master.encrypt
        entropy = os.urandom(56 * len(people))
        records = []
        keys = []
        for n, (blind, case_id, identite) in enumerate(people):
            at = 56 * n
            person_key = entropy[at : at + 32]
            nonce, key_nonce = entropy[at + 32 : at + 44], entropy[at + 44 : at + 56]
            aad = case_id.bytes
            sealed = AESGCM(person_key).encrypt(nonce, encode(identite), aad)
            records.append((case_id.hex, blind, nonce, sealed))
            keys.append((case_id.hex, key_nonce, WRAPPED_V2 + master(key_nonce, person_key, aad)))
        return records, keys

    def insert(self, tx: Tx, people: Sequence[tuple[str, UUID, Identite]]) -> None:
        """Seal and store new people; a blind index stored meanwhile by another import wins."""
        if not people:
            return
        records, keys = self.seal(people)
        self._index(tx, self.search_rows((case_id, i) for _, case_id, i in people))
        if tx.postgres:
            # One statement per table, one array per column.
            tx.execute(
                "INSERT INTO identite SELECT * FROM "
                "unnest(%b::text[], %b::text[], %b::bytea[], %b::bytea[]) ON CONFLICT DO NOTHING",
                [list(column) for column in zip(*records, strict=True)],
            )
            tx.execute(
                "INSERT INTO identite_cle SELECT * FROM "
                "unnest(%b::text[], %b::bytea[], %b::bytea[]) ON CONFLICT DO NOTHING",
                [list(column) for column in zip(*keys, strict=True)],
            )
            return
        tx.executemany("INSERT INTO identite VALUES (%s,%s,%s,%s) ON CONFLICT DO NOTHING", records)
        tx.executemany("INSERT INTO identite_cle VALUES (%s,%s,%s) ON CONFLICT DO NOTHING", keys)

    def refresh(self, tx: Tx, people: Sequence[tuple[UUID, Identite]]) -> int:
        """Re-seal, under each person's own key, the identities a later flux changed (a new
        address, a corrected name), and replace their search terms; returns how many changed.
        Erased people stay erased (the records are locked while read: an erasure meanwhile
        waits, then removes the new terms too)."""
        latest = {case_id.hex: identite for case_id, identite in people}
        if not latest:
            return 0
        ids = list(latest)
        query = (
            "SELECT i.case_id, i.nonce, i.donnees, k.nonce, k.cle FROM identite i "
            "JOIN identite_cle k ON k.case_id = i.case_id WHERE i.case_id "
        )
        rows: list[tuple[object, ...]] = []
        if tx.postgres:
            rows = tx.execute(query + "= ANY(%s) FOR UPDATE OF i", (ids,))
        else:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows += tx.execute(query + f"IN ({','.join(['%s'] * len(chunk))})", chunk)
        changed = []
        for raw_id, *sealed in rows:
            case_id = UUID(str(raw_id))
            nonce, data, key_nonce, wrapped = (bytes(v) for v in sealed)  # type: ignore[call-overload]
            person_key = self._unwrap(key_nonce, wrapped, case_id)
            new = latest[case_id.hex]
            if self._decode(person_key.decrypt(nonce, data, case_id.bytes)) == new:
                continue
            fresh = os.urandom(12)
            changed.append(
                (fresh, person_key.encrypt(fresh, self._encode(new), case_id.bytes), case_id.hex)
            )
        tx.executemany("UPDATE identite SET nonce = %s, donnees = %s WHERE case_id = %s", changed)
        if changed:
            renamed = [case_hex for _, _, case_hex in changed]
            self._unindex(tx, renamed)
            self._index(tx, self.search_rows((UUID(h), latest[h]) for h in renamed))
        return len(changed)

    def read(self, case_id: UUID) -> Identite | None:
        return self.read_many([case_id]).get(case_id)

    def read_many(self, case_ids: Sequence[UUID]) -> dict[UUID, Identite]:
        """The people the vault keeps among `case_ids` (the erased and unknown ones left out),
        opened in one transaction (a page of a list: one connection, not one per line); only
        these are decrypted."""
        ids = list(dict.fromkeys(c.hex for c in case_ids))
        if not ids:
            return {}
        query = (
            "SELECT i.case_id, i.nonce, i.donnees, k.nonce, k.cle FROM identite i "
            "JOIN identite_cle k ON k.case_id = i.case_id WHERE i.case_id "
        )
        rows: list[tuple[Any, ...]] = []
        with self.db.transaction() as tx:
            if tx.postgres:
                rows = tx.execute(query + "= ANY(%s)", (ids,))
            else:
                for start in range(0, len(ids), SQLITE_CHUNK):
                    chunk = ids[start : start + SQLITE_CHUNK]
                    rows += tx.execute(query + f"IN ({','.join(['%s'] * len(chunk))})", chunk)
        return dict(self._opened(row) for row in rows)

    def held(self, case_ids: Sequence[UUID]) -> set[UUID]:
        """Those of `case_ids` whose key the vault still holds (nothing decrypted)."""
        ids = list(dict.fromkeys(c.hex for c in case_ids))
        found: list[tuple[Any, ...]] = []
        with self.db.transaction() as tx:
            if tx.postgres:
                found = tx.execute(
                    "SELECT case_id FROM identite_cle WHERE case_id = ANY(%s)", (ids,)
                )
            else:
                for start in range(0, len(ids), SQLITE_CHUNK):
                    chunk = ids[start : start + SQLITE_CHUNK]
                    found += tx.execute(
                        f"SELECT case_id FROM identite_cle WHERE case_id IN "
                        f"({','.join(['%s'] * len(chunk))})",
                        chunk,
                    )
        return {UUID(str(case_id)) for (case_id,) in found}

    def erase(self, case_id: UUID) -> bool:
        """Destroy the person's key, record and search terms; True when there was something to
        erase."""
        with self.db.transaction() as tx:
            had_key = tx.execute(
                "DELETE FROM identite_cle WHERE case_id = %s RETURNING case_id", (case_id.hex,)
            )
            had_record = tx.execute(
                "DELETE FROM identite WHERE case_id = %s RETURNING case_id", (case_id.hex,)
            )
            self._unindex(tx, [case_id.hex])
        return bool(had_key or had_record)
