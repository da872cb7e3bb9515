"""Maps domain events to the library's stored events and back.

A stored event's topic is the event class name (the same word as the payload's `type` tag), and
its state is the msgspec encoding of the event itself: no per-field copy, one native call each way.
"""

from typing import cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent

from adapters.eventlog.transcoder import MsgspecTranscoder
from domain.catalogue import ALL_EVENT_TYPES
from domain.events import Evenement, Recorded

TOPICS: dict[str, type[Evenement]] = {kind.__name__: kind for kind in ALL_EVENT_TYPES}


def topic_of(kind: type[Evenement]) -> str:
    return kind.__name__


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
        """Decode only the payload (what projections need)."""
        try:
            kind = TOPICS[stored_event.topic]
            state = stored_event.state
            if self.cipher or self.compressor:  # inline test: this runs once per event read
                state = self.unwrap(state)
            return self.transcoder.decode_as(state, kind)
        except Exception as e:
            msg = (
                f"Failed to deserialise stored event {stored_event.topic} "
                f"{stored_event.originator_id}#{stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
