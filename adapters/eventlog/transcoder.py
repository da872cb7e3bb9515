"""msgspec as the event store's transcoder.

Event payloads are msgspec Structs: they encode in one native call (dates, UUIDs and enums
included) and decode straight into their typed class, validated. Other values keep the library's
`{"_type_": ..., "_data_": ...}` convention for registered transcodings, so the transcoder honours
the library's contract (its own `TranscoderTestCase` runs against it).
"""

from typing import Any, TypeVar

import msgspec
from eventsourcing.persistence import Transcoder, Transcoding, TranscodingNotRegisteredError

T = TypeVar("T")

_NATIVE = (str, int, float, bool, type(None))


class MsgspecTranscoder(Transcoder):
    """JSON transcoder backed by msgspec, extensible with library `Transcoding`s."""

    def __init__(self) -> None:
        self.types: dict[type, Transcoding] = {}
        self.names: dict[str, Transcoding] = {}
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()
        self._typed: dict[type, msgspec.json.Decoder[Any]] = {}

    def register(self, transcoding: Transcoding) -> None:
        self.types[transcoding.type] = transcoding
        self.names[transcoding.name] = transcoding

    def encode(self, obj: Any) -> bytes:
        if isinstance(obj, msgspec.Struct):
            return self._encoder.encode(obj)
        return self._encoder.encode(self._lower(obj))

    def decode(self, data: bytes) -> Any:
        return self._raise(self._decoder.decode(data))

    def decode_as(self, data: bytes, kind: type[T]) -> T:
        """Decode and validate `data` as an instance of `kind` (the events' fast path)."""
        decoder = self._typed.get(kind)
        if decoder is None:
            decoder = self._typed[kind] = msgspec.json.Decoder(kind)
        result: T = decoder.decode(data)
        return result

    def _lower(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _NATIVE or isinstance(obj, msgspec.Struct):
            return obj
        if kind is dict:
            return {key: self._lower(value) for key, value in obj.items()}
        if kind is list:
            return [self._lower(value) for value in obj]
        transcoding = self.types.get(kind)
        if transcoding is None:
            msg = (
                f"Object of type {kind} is not serializable. Please define and register "
                "a custom transcoding for this type."
            )
            raise TranscodingNotRegisteredError(msg)
        return {"_type_": transcoding.name, "_data_": self._lower(transcoding.encode(obj))}

    def _raise(self, obj: Any) -> Any:
        if type(obj) is list:
            return [self._raise(value) for value in obj]
        if type(obj) is not dict:
            return obj
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            name = obj["_type_"]
            transcoding = self.names.get(name)
            if transcoding is None:
                msg = (
                    f"Data serialized with name '{name}' is not deserializable. "
                    "Please register a custom transcoding for this type."
                )
                raise TranscodingNotRegisteredError(msg)
            return transcoding.decode(self._raise(obj["_data_"]))
        return {key: self._raise(value) for key, value in obj.items()}
