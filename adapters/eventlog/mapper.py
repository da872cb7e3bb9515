"""Maps domain events to the library's stored events and back, through every schema version.

A stored event's topic names its type and the version of its shape: the class name for
version 1 (every row written so far), `Name@n` for version n (`domain.upcasters`). Its state is
the msgspec encoding of the event itself: no per-field copy, one native call each way. A row of
the current version is decoded straight into its class; an older one is read as JSON, brought
to today's shape by its upcasters, then validated as the class (`Codec`). A version newer than
this release knows is refused loudly (`NewerEventVersion`): the release is too old for the log.
"""

from collections.abc import Iterable, Mapping
from typing import Any, cast
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent

from adapters.eventlog.transcoder import MsgspecTranscoder
from domain.catalogue import ALL_EVENT_TYPES
from domain.events import Evenement, Recorded
from domain.upcasters import UPCASTERS, Upcaster, chains, upcast, versions_of

VERSION_MARK = "@"


def versioned_topic(name: str, version: int) -> str:
    """The topic of version `version` of the type named `name` (version 1: the name alone, as
    every row written before versions existed)."""
    return name if version == 1 else f"{name}{VERSION_MARK}{version}"


def parse_topic(topic: str) -> tuple[str, int] | None:
    """(type name, version) a topic says, or None when it is not a topic of that form."""
    name, mark, version = topic.partition(VERSION_MARK)
    if not mark:
        return name, 1
    if not version.isdigit() or int(version) < 2 or version.startswith("0"):
        return None
    return name, int(version)


class Upcasting:
    """The decoder of an older version's rows: generic JSON, the steps to today's shape, then
    the current class's own decoder (the same validation as a current row)."""

    __slots__ = ("current", "steps")

    _json = msgspec.json.Decoder()
    _encoder = msgspec.json.Encoder()

    def __init__(self, steps: tuple[Upcaster, ...], current: msgspec.json.Decoder[Any]) -> None:
        self.steps = steps
        self.current = current

    def decode(self, data: bytes) -> Any:
        payload = upcast(self._json.decode(data), self.steps)
        return self.current.decode(self._encoder.encode(payload))


Decoder = msgspec.json.Decoder[Any] | Upcasting
"""What decodes one topic's payloads: `.decode(bytes)` gives the event in today's shape."""


class NewerEventVersion(RuntimeError):
    """A stored event in a version of its type this release does not know: written by a newer
    release. Nothing is wrong with the event; this release cannot read it, so the reader stops
    there instead of skipping it or setting its case aside (upgrade, then read again)."""

    def __init__(
        self, topic: str, readable: int, position: int | None = None, where: str = ""
    ) -> None:
        name, version = parse_topic(topic) or (topic, 0)
        at = f"position {position}" if position is not None else "unknown position"
        super().__init__(
            f"event at {at}{where} is {topic}: version {version} of {name}, newer than this "
            f"release reads (up to version {readable}); upgrade parcours to read this log"
        )
        self.topic = topic
        self.position = position
        self.readable = readable


class Codec:
    """Every topic the log may hold, with its decoder: the current version of each type and
    each older one (through its upcasters). Built from the catalogue, the classes' versions and
    `domain.upcasters.UPCASTERS`; a test builds one from a registry of its own."""

    def __init__(
        self,
        kinds: Iterable[type[Evenement]],
        upcasters: Mapping[tuple[type[Evenement], int], Upcaster] = UPCASTERS,
        versions: Mapping[type[Evenement], int] | None = None,
    ) -> None:
        kinds = tuple(kinds)
        self.versions: dict[type[Evenement], int] = {**versions_of(kinds), **(versions or {})}
        steps = chains(self.versions, upcasters)
        self.current: dict[type[Evenement], str] = {}
        self.topics: dict[type[Evenement], tuple[str, ...]] = {}
        self.kinds: dict[str, type[Evenement]] = {}
        self.decoders: dict[str, Decoder] = {}
        self._named: dict[str, type[Evenement]] = {kind.__name__: kind for kind in kinds}
        for kind in kinds:
            name, current = kind.__name__, self.versions[kind]
            typed: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)
            self.current[kind] = versioned_topic(name, current)
            self.topics[kind] = tuple(versioned_topic(name, n) for n in range(1, current + 1))
            for n in range(1, current + 1):
                topic = versioned_topic(name, n)
                self.kinds[topic] = kind
                self.decoders[topic] = typed if n == current else Upcasting(steps[kind, n], typed)

    def topic_of(self, kind: type[Evenement]) -> str:
        """The topic this release writes `kind` under (its current version)."""
        return self.current[kind]

    def topics_of(self, kinds: Iterable[type[Evenement]]) -> list[str]:
        """Every topic the types may be stored under, each version of each: what a filter on
        topics must name to read old rows too."""
        return [topic for kind in kinds for topic in self.topics[kind]]

    def newer(self, topic: str) -> int | None:
        """The version this release reads of the type when `topic` is a newer version of a
        known type, else None."""
        parsed = parse_topic(topic)
        if parsed is None or parsed[0] not in self._named:
            return None
        readable = self.versions[self._named[parsed[0]]]
        return readable if parsed[1] > readable else None

    def decode(self, topic: str, data: bytes, position: int | None = None) -> Evenement:
        """One payload in today's shape; NewerEventVersion for a version this release does not
        know, KeyError for a type it does not know."""
        decoder = self.decoders.get(topic)
        if decoder is None:
            self.refuse_newer(topic, position)
            raise KeyError(f"no event type {topic!r} in this release")
        event: Evenement = decoder.decode(data)
        return event

    def refuse_newer(self, topic: str, position: int | None = None, where: str = "") -> None:
        """NewerEventVersion when `topic` is a version of its type newer than this release's."""
        readable = self.newer(topic)
        if readable is not None:
            raise NewerEventVersion(topic, readable, position, where)


CODEC = Codec(ALL_EVENT_TYPES)
"""The release's codec: every type of the catalogue at its declared version."""

TOPICS: dict[str, type[Evenement]] = CODEC.kinds
"""Every topic the log may hold (each version of each type) to its class."""

DECODERS: dict[str, Decoder] = CODEC.decoders
"""Every topic to its decoder; the readers look a row's decoder up here (one dict, so a test
registering another registry's decoders reaches every reader)."""


def topic_of(kind: type[Evenement]) -> str:
    """The topic `kind` is written under (its current version)."""
    return CODEC.topic_of(kind)


def topics_of(*kinds: type[Evenement]) -> list[str]:
    """Every topic the types may be stored under (each version): what a topic filter names."""
    return CODEC.topics_of(kinds)


class EventMapper(Mapper[UUID]):
    """Library mapper for `Recorded` events, through the msgspec transcoder."""

    transcoder: MsgspecTranscoder

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        assert isinstance(domain_event, Recorded)
        state = self.transcoder.encode(domain_event.event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic_of(type(domain_event.event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Recorded:
        return Recorded(
            originator_id=cast(UUID, stored_event.originator_id),
            originator_version=stored_event.originator_version,
            event=self.decode_state(stored_event),
        )

    @property
    def plain(self) -> bool:
        """Whether stored payloads are the transcoder's bytes as they are (no cipher, no
        compressor): the log's readers then decode the rows straight away."""
        return self.cipher is None and self.compressor is None

    def unwrap(self, state: bytes) -> bytes:
        """A stored payload as the transcoder wrote it: decrypted, then decompressed."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state

    def decode_state(self, stored_event: StoredEvent) -> Evenement:
        """Decode only the payload (what projections need), in today's shape whatever the
        version it was stored in; NewerEventVersion for a version this release does not know."""
        try:
            state = stored_event.state
            if self.cipher or self.compressor:  # inline test: this runs once per event read
                state = self.unwrap(state)
            event: Evenement = DECODERS[stored_event.topic].decode(state)
            return event
        except Exception as e:
            CODEC.refuse_newer(
                stored_event.topic,
                getattr(stored_event, "id", None),
                f" (case {stored_event.originator_id}, version {stored_event.originator_version})",
            )
            msg = (
                f"Failed to deserialise stored event {stored_event.topic} "
                f"{stored_event.originator_id}#{stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
