"""Shared pieces of the flux tests: the samples, a fixed clock, reading back what was written."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.sql import Db
from domain.events import Evenement, Meta

FIXTURES = Path(__file__).with_name("samples")
"""The CAF/MSA samples and their provenance (samples/README.md)."""

NOW = datetime(2022, 3, 10, 9, 30, tzinfo=UTC)
META = Meta(recorded_at=NOW, recorded_by="x", request_id="x")


def clock(now: datetime = NOW) -> Callable[[], datetime]:
    return lambda: now


def events(app: Parcours) -> list[tuple[Any, int, Evenement]]:
    """Every event of the log, metadata blanked (it names the import run)."""
    return [
        (r.originator_id, r.originator_version, msgspec.structs.replace(r.event, meta=META))
        for batch in read_log(app)
        for r in batch
    ]


def variant(tmp: Path, source: str, name: str, *replacements: tuple[str, str]) -> Path:
    """A copy of a sample with some text replaced (each replacement must apply)."""
    text = (FIXTURES / source).read_bytes().decode("cp1252")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp / name
    path.write_bytes(text.encode("cp1252"))
    return path


def dump_tables(db: Db) -> bytes:
    """Every byte of every table of the store (text and binary columns alike)."""
    out = bytearray()
    with db.transaction() as tx:
        if tx.postgres:
            names = [
                r[0]
                for r in tx.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ]
        else:
            names = [
                r[0] for r in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
        assert names
        for name in names:
            for row in tx.execute(f'SELECT * FROM "{name}"'):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        out += bytes(value)
                    else:
                        out += str(value).encode()
                    out += b"\x00"
    return bytes(out)
