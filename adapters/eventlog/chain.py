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

_HEAD = struct.Struct(">q16sqII")


def link_hash(
    previous: bytes, position: int, case_id: bytes, version: int, topic: bytes, state: bytes
) -> bytes:
    """SHA-256 over the previous hash, then position (8 bytes, big-endian), case id (16
    bytes), version (8 bytes), the lengths of topic and payload (4 bytes each), the topic
    (UTF-8) and the payload (the stored bytes): the lengths make the encoding unambiguous, so
    no two different rows hash alike. The reference: `chain_hashes` and `Walk` compute the
    same, inlined for speed (tests/unit/test_chain_walk.py holds them to it)."""
    return hashlib.sha256(
        previous + _HEAD.pack(position, case_id, version, len(topic), len(state)) + topic + state
    ).digest()


_TOPICS: dict[str, bytes] = {}


def topic_bytes(topic: str) -> bytes:
    """The topic as hashed (UTF-8), encoded once per type."""
    name = _TOPICS.get(topic)
    if name is None:
        name = _TOPICS[topic] = topic.encode()
    return name


def case_bytes(case_id: UUID | str | bytes) -> bytes:
    """A case id's 16 bytes, whichever way the store returned it (UUID, hex text, bytes)."""
    if isinstance(case_id, bytes):
        return case_id
    if isinstance(case_id, str):
        return bytes.fromhex(case_id.replace("-", ""))
    return case_id.bytes


class Link(NamedTuple):
    """One stored link: the event's position, the position of the event linked before it (0
    for the first), and the hash."""

    position: int
    previous: int
    hash: bytes


def chain_hashes(
    digest: bytes, rows: Iterable[tuple[int, UUID | str | bytes, int, str, bytes]]
) -> list[bytes]:
    """The hashes of freshly stored rows (position order) following `digest`: `link_hash`,
    written for speed (it runs for every event appended)."""
    head, sha, topics = _HEAD.pack, hashlib.sha256, _TOPICS
    out: list[bytes] = []
    append = out.append
    for position, case_id, version, topic, state in rows:
        name = topics.get(topic) or topic_bytes(topic)
        case = case_id.int.to_bytes(16, "big") if type(case_id) is UUID else case_bytes(case_id)
        h = sha(digest)
        h.update(head(position, case, version, len(name), len(state)))
        h.update(name)
        h.update(state)
        digest = h.digest()
        append(digest)
    return out


def links_for(
    last: "Link | None", rows: Iterable[tuple[int, UUID | str | bytes, int, str, bytes]]
) -> list["Link"]:
    """The links of freshly stored rows (position order), after the last stored link."""
    rows = list(rows)
    previous, digest = (0, GENESIS) if last is None else (last.position, last.hash)
    positions = [r[0] for r in rows]
    return [
        Link(p, q, h)
        for p, q, h in zip(
            positions, [previous, *positions[:-1]], chain_hashes(digest, rows), strict=True
        )
    ]


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


Row = tuple[int, Any, int, str, bytes]
"""A stored event: position, case id (UUID, hex text or 16 bytes), version, topic, payload."""

RECENT = 256
"""Linked rows a walk remembers, to name the row a later link skips."""


def _uuid(value: UUID | str | bytes) -> UUID:
    if isinstance(value, UUID):
        return value
    return UUID(bytes=value) if isinstance(value, bytes) else UUID(value)


class Walk:
    """The chain recomputed over the stored rows and links, fed in position order batch by
    batch (memory stays that of a batch): every break found, up to `limit`."""

    def __init__(
        self,
        after: int = 0,
        digest: bytes = GENESIS,
        limit: int = 100,
        recent: Iterable[Row] = (),
    ) -> None:
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
        self._recent: deque[Row] = deque(recent, maxlen=RECENT)
        """The last linked rows walked: the one a later link skips is an inserted row (a
        walk taking up from a stored link is given the linked rows before it)."""

    def vouched(self, last: int, digest: bytes, events: int) -> None:
        """A range checked elsewhere and found whole (the database recomputed each link from
        the stored one before it): the walk takes up after its last link, as if it had walked
        its `events` rows; the linked rows remembered are forgotten (`take_up` gives them
        back before the walk is fed again)."""
        self.last, self.digest = last, digest
        self.events += events
        self._recent.clear()

    def take_up(self, recent: Iterable[Row]) -> None:
        """The linked rows just before where the walk takes up."""
        self._recent.clear()
        self._recent.extend(recent)

    def watch(self, position: int) -> None:
        """Remember the recomputed hash at this position (a checkpoint's)."""
        self._watch.add(position)

    @property
    def full(self) -> bool:
        return len(self.breaks) >= self.limit

    def _break(self, kind: Kind, position: int, row: Row | None, detail: str) -> None:
        if self.full:
            return
        if row is None:
            self.breaks.append(Break(kind=kind, position=position, detail=detail))
            return
        self.breaks.append(
            Break(
                kind=kind,
                position=position,
                case_id=_uuid(row[1]),
                version=row[2],
                type=row[3],
                detail=detail,
            )
        )

    def _skipped(self, previous: int) -> Row | None:
        """The first linked row walked after `previous`: a row the link skips."""
        for row in self._recent:
            if row[0] > previous:
                return row
        return None

    def feed(self, rows: Sequence[Row], links: Sequence[Link]) -> None:
        """One batch: rows and links of the same position range, each in position order."""
        i = j = 0
        nr, nl = len(rows), len(links)
        head, sha, recent, watch = _HEAD.pack, hashlib.sha256, self._recent, self._watch
        self.events += nr
        while i < nr or j < nl:
            # The usual case, kept tight: each row with its link, following the last one.
            digest, last = self.digest, self.last
            while i < nr and j < nl:
                row, link = rows[i], links[j]
                position, case_id, version, topic, state = row
                if position != link.position or link.previous != last:
                    break
                name = _TOPICS.get(topic) or topic_bytes(topic)
                case = case_id.bytes if isinstance(case_id, UUID) else case_bytes(case_id)
                h = sha(digest)
                h.update(head(position, case, version, len(name), len(state)))
                h.update(name)
                h.update(state)
                computed = h.digest()
                if computed != link.hash:
                    break
                digest, last = computed, position
                if position in watch and not self.breaks:
                    self.computed[position] = computed
                recent.append(row)
                i += 1
                j += 1
            self.digest, self.last = digest, last
            if i < nr or j < nl:
                i, j = self._slow(rows, links, i, j)

    def feed_joined(self, joined: Sequence[tuple[Any, ...]]) -> None:
        """One batch of rows each with its own link's (previous position, hash), or None for
        both when it has none, in position order, with no link of the range left without its
        row: the usual case, walked without building a link per row; the first anomaly hands
        the rest of the batch to `feed`."""
        head, sha, recent, watch = _HEAD.pack, hashlib.sha256, self._recent, self._watch
        digest, last = self.digest, self.last
        done = 0
        for row in joined:
            position, case_id, version, topic, state, previous, stored = row
            if previous != last:
                break
            name = _TOPICS.get(topic) or topic_bytes(topic)
            case = case_id if type(case_id) is bytes else case_bytes(case_id)
            h = sha(digest)
            h.update(head(position, case, version, len(name), len(state)))
            h.update(name)
            h.update(state)
            computed = h.digest()
            if computed != stored:
                break
            digest, last = computed, position
            if position in watch and not self.breaks:
                self.computed[position] = computed
            recent.append(row)
            done += 1
        self.digest, self.last = digest, last
        self.events += done
        if done < len(joined):
            rest = joined[done:]
            self.feed(
                [r[:5] for r in rest],
                [Link(r[0], r[5], bytes(r[6])) for r in rest if r[6] is not None],
            )

    def _slow(self, rows: Sequence[Row], links: Sequence[Link], i: int, j: int) -> tuple[int, int]:
        """One step where the row and the link do not simply follow: name the break."""
        row = rows[i] if i < len(rows) else None
        link = links[j] if j < len(links) else None
        if link is None or (row is not None and row[0] < link.position):
            assert row is not None
            self._break("insere", row[0], row, "événement sans maillon dans la chaîne")
            return i + 1, j
        if row is None or row[0] > link.position:
            self._break("supprime", link.position, None, "maillon sans événement: il a disparu")
            self._resync(link)
            return i, j + 1
        if link.previous != self.last:
            skipped = self._skipped(link.previous)
            if link.previous < self.last and skipped is not None:
                self._break("insere", skipped[0], skipped, "événement que la chaîne ne connaît pas")
            else:
                self._break(
                    "supprime",
                    link.previous,
                    None,
                    f"événement et maillon disparus avant la position {row[0]}",
                )
        else:
            self._break(
                "modifie", row[0], row, "le contenu stocké ne correspond plus à son maillon"
            )
        self._recent.append(row)
        self._resync(link)
        return i + 1, j + 1

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
