"""Event schema versions: the steps that bring a payload stored in an old shape to today's.

The log is never rewritten. When an event type's fields change, its class says so
(`schema_version`, raised by one, on the class next to the fields) and this module gains the
step from the previous shape: a pure function from the payload as version n stored it (the
JSON object, a `dict`, `type` tag included) to the payload version n + 1 would have stored. A
row of version n is read through every step from n up to today's version, then validated as
today's class; a row of today's version is decoded straight into its class and never sees a
`dict`. A step takes the facts as they were recorded and says them in the new shape: it may
rename, split or default a field, never look anything up.

Every type is at version 1 today, so `UPCASTERS` is empty; how to add a version is in
docs/adding-an-event.md ("Changing an event's shape").
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain.events import Evenement

Payload = dict[str, Any]
"""A stored event as its JSON object: field names to JSON values (dates as ISO strings)."""

Upcaster = Callable[[Payload], Payload]
"""One step: version n's payload to version n + 1's."""

UPCASTERS: Mapping[tuple[type[Evenement], int], Upcaster] = {}
"""(event type, version n) to the step from version n to n + 1, for every version below the
type's `schema_version`. Empty: every type is at version 1."""


class BrokenChain(ValueError):
    """A type whose version has no path back to version 1: a step is missing, or a step is
    given for a version the type never had. Raised when the log's decoders are built, so a
    release with a broken chain does not start."""


def versions_of(kinds: Iterable[type[Evenement]]) -> dict[type[Evenement], int]:
    """Each type's current version, as its class declares it."""
    return {kind: kind.schema_version for kind in kinds}


def chains(
    versions: Mapping[type[Evenement], int],
    upcasters: Mapping[tuple[type[Evenement], int], Upcaster],
) -> dict[tuple[type[Evenement], int], tuple[Upcaster, ...]]:
    """For every older version of every type, the steps that bring it to today's version, in
    order; BrokenChain when a step is missing or stray."""
    for kind, version in upcasters:
        if kind not in versions or not 1 <= version < versions[kind]:
            current = versions.get(kind)
            msg = (
                f"an upcaster from version {version} of {kind.__name__} is declared, but "
                f"{kind.__name__} is at version {current}: steps go from 1 to the version "
                "before the current one"
            )
            raise BrokenChain(msg)
    out: dict[tuple[type[Evenement], int], tuple[Upcaster, ...]] = {}
    for kind, current in versions.items():
        if current < 1:
            raise BrokenChain(f"{kind.__name__} declares version {current}; versions start at 1")
        missing = [n for n in range(1, current) if (kind, n) not in upcasters]
        if missing:
            msg = (
                f"{kind.__name__} is at version {current} but has no upcaster from version "
                f"{missing[0]} to {missing[0] + 1} (domain/upcasters.py)"
            )
            raise BrokenChain(msg)
        for old in range(1, current):
            out[kind, old] = tuple(upcasters[kind, n] for n in range(old, current))
    return out


def upcast(payload: Payload, steps: Iterable[Upcaster]) -> Payload:
    """The payload brought through `steps`, in order."""
    for step in steps:
        payload = step(payload)
    return payload
