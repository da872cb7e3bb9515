"""The log's hash chain: each stored event is linked to the one before it by a SHA-256 hash, so
an auditor can recompute the chain and find the first event altered, inserted or deleted
since it was written (docs/audit.md, "Verifying the log").

A link is (position, previous position, hash), written by the recorders in the events'
transaction. Its hash covers the previous link's hash and the stored row's fields exactly as
stored (position, case id, version, type, payload bytes): an identity erased from the vault
leaves the log, and so the chain, untouched.

This module is pure: how a link is computed and how a walk over the stored rows and links
finds the breaks. The recorders write links, `reading.chained_batch` reads rows and links
together, `api.services.ledger` runs the walk.
"""

import hashlib
import struct
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple
from uuid import UUID

import msgspec

GENESIS = bytes(32)
"""The previous hash of the first link."""

_HEAD = struct.Struct(">q16sqI")
_LEN = struct.Struct(">I")


def link_hash(
    previous: bytes, position: int, case_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """SHA-256 over the previous hash, then position (8 bytes, big-endian), case id (16
    bytes), version (8 bytes), topic (4-byte length, UTF-8) and payload (4-byte length, the
    stored bytes): lengths make the encoding unambiguous, so no two rows hash alike."""
    name = topic.encode()
    return hashlib.sha256(
        b"".join(
            (
                previous,
                _HEAD.pack(position, case_id.bytes, version, len(name)),
                name,
                _LEN.pack(len(state)),
                state,
            )
        )
    ).digest()


class Link(NamedTuple):
    """One stored link: the event's position, the position of the event linked before it (0
    for the first), and the hash."""

    position: int
    previous: int
    hash: bytes


def links_for(last: Link | None, rows: Iterable[tuple[int, UUID, int, str, bytes]]) -> list[Link]:
    """The links of freshly stored rows (position order), after the last stored link."""
    previous, digest = (0, GENESIS) if last is None else (last.position, last.hash)
    links = []
    for position, case_id, version, topic, state in rows:
        digest = link_hash(digest, position, case_id, version, topic, state)
        links.append(Link(position, previous, digest))
        previous = position
    return links


Kind = Literal["modifie", "insere", "supprime"]


class Break(msgspec.Struct, frozen=True, kw_only=True):
    """Where the stored log departs from its chain."""

    kind: Kind
    """`modifie`: the row no longer hashes to its link; `insere`: a row without its link (or
    one the next link skips); `supprime`: a link without its row, or a link naming a previous
    position that holds nothing."""
    position: int
    case_id: UUID | None = None
    version: int | None = None
    type: str | None = None
    """Case, version and type of the row; None for a deleted row (they went with it)."""
    detail: str = ""


class _Seen(NamedTuple):
    position: int
    case_id: UUID | None
    version: int | None
    topic: str | None


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


class Walk:
    """The chain recomputed over the stored rows and links, fed in position order batch by
    batch (memory stays that of a batch): every break found, up to `limit`."""

    def __init__(self, after: int = 0, digest: bytes = GENESIS, limit: int = 100) -> None:
        self.last = after
        """Position of the last link walked: the next link must name it as its previous."""
        self.digest = digest
        """The chain's hash at the last link walked, as recomputed (resynchronised on the
        stored link after a break, so one break is reported once)."""
        self.limit = limit
        self.breaks: list[Break] = []
        self.events = 0
        self.computed: dict[int, bytes] = {}
        """Recomputed hashes at the positions asked for (`watch`), while no break preceded."""
        self._watch: set[int] = set()
        self._recent: deque[_Seen] = deque(maxlen=256)

    def watch(self, position: int) -> None:
        """Remember the recomputed hash at this position (a checkpoint's)."""
        self._watch.add(position)

    @property
    def full(self) -> bool:
        return len(self.breaks) >= self.limit

    def _break(self, kind: Kind, seen: _Seen, detail: str) -> None:
        if not self.full:
            self.breaks.append(
                Break(
                    kind=kind,
                    position=seen.position,
                    case_id=seen.case_id,
                    version=seen.version,
                    type=seen.topic,
                    detail=detail,
                )
            )

    def _skipped(self, previous: int) -> _Seen | None:
        """The first linked position walked after `previous`: a row the link skips."""
        for seen in self._recent:
            if seen.position > previous:
                return seen
        return None

    def feed(self, rows: Sequence[tuple[int, Any, int, str, bytes]], links: Sequence[Link]) -> None:
        """One batch: rows and links of the same position range, each in position order."""
        i = j = 0
        while i < len(rows) or j < len(links):
            row = rows[i] if i < len(rows) else None
            link = links[j] if j < len(links) else None
            if link is None or (row is not None and row[0] < link.position):
                assert row is not None
                i += 1
                seen = _Seen(row[0], _uuid(row[1]), row[2], row[3])
                self._break("insere", seen, "événement sans maillon dans la chaîne")
                self.events += 1
                continue
            j += 1
            if row is None or row[0] > link.position:
                gone = _Seen(link.position, None, None, None)
                self._break("supprime", gone, "maillon sans événement: l'événement a disparu")
                self._resync(link)
                continue
            i += 1
            self.events += 1
            position, raw_id, version, topic, state = row
            case_id = _uuid(raw_id)
            seen = _Seen(position, case_id, version, topic)
            if link.previous != self.last:
                skipped = self._skipped(link.previous)
                if link.previous < self.last and skipped is not None:
                    self._break("insere", skipped, "événement que la chaîne ne connaît pas")
                else:
                    gone = _Seen(link.previous, None, None, None)
                    self._break(
                        "supprime",
                        gone,
                        f"événement et maillon disparus avant la position {position}",
                    )
                self._recent.append(seen)
                self._resync(link)
                continue
            digest = link_hash(self.digest, position, case_id, version, topic, state)
            self._recent.append(seen)
            if digest != link.hash:
                self._break("modifie", seen, "le contenu stocké ne correspond plus à son maillon")
                self._resync(link)
                continue
            self.digest = digest
            self.last = position
            if position in self._watch and not self.breaks:
                self.computed[position] = digest

    def _resync(self, link: Link) -> None:
        self.digest = link.hash
        self.last = link.position


class PointDeControle(msgspec.Struct, frozen=True, kw_only=True):
    """A signed statement that the log held `position` events chained to `racine` at
    `horodatage`: a later reader proves the log up to there unchanged by recomputing it."""

    position: int
    racine: str
    """The chain's hash at `position`, hexadecimal."""
    horodatage: str
    """When it was made, ISO 8601 in UTC."""
    motif: str
    """Why: `demande` (on demand), `etat:<structure>/<période>`, `import:<fichier>`…"""
    cle: str = ""
    """The Ed25519 public key that signed it, hexadecimal."""
    signature: str = ""
    """Ed25519 signature of `message()`, hexadecimal."""

    def message(self) -> bytes:
        """What is signed: one line per field, in this order, UTF-8."""
        return (
            f"parcours point de controle\n{self.position}\n{self.racine}\n"
            f"{self.horodatage}\n{self.motif}\n"
        ).encode()
