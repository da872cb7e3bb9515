"""Writers of extracts, batch by batch, into any binary sink (a file, or an HTTP stream).

Parquet: row groups of about 65,000 rows, the schema of the columns documented in each field's metadata.
CSV: UTF-8 with a byte-order mark and `;` separators, French headers, so that a French
spreadsheet opens it as is. JSONL: one JSON object per line.

pyarrow is imported when a Parquet extract is written, not with this module: the API and the
command line start without it (tests/unit/test_heavy_imports.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

import msgspec

from adapters.render.extract_formats import Format as Format
from projections.cohort import Colonne, Row

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

MEDIA_TYPES = {
    Format.PARQUET: "application/vnd.apache.parquet",
    Format.CSV: "text/csv; charset=utf-8",
    Format.JSONL: "application/x-ndjson",
}


def _arrow_types() -> dict[str, pa.DataType]:
    import pyarrow as pa

    return {
        "str": pa.string(),
        "int": pa.int32(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }


def arrow_schema(colonnes: Sequence[Colonne]) -> pa.Schema:
    """The Parquet schema of an extract, each field carrying its French header and meaning."""
    import pyarrow as pa

    types = _arrow_types()
    return pa.schema(
        [
            pa.field(
                c.nom,
                types[c.type],
                nullable=True,
                metadata={"entete": c.entete, "description": c.sens},
            )
            for c in colonnes
        ]
    )


class Writer(Protocol):
    def write(self, rows: list[Row]) -> None: ...
    def close(self) -> None: ...


ROW_GROUP = 65_536
"""Rows per Parquet row group: batches are kept as Arrow columns until a group is full, so that
the file's footer (one entry per column per group) stays small whatever the extract's size."""


class ParquetWriter:
    def __init__(self, sink: BinaryIO, colonnes: Sequence[Colonne]) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        self.schema = arrow_schema(colonnes)
        self.writer = pq.ParquetWriter(sink, self.schema, compression="zstd")
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0

    def write(self, rows: list[Row]) -> None:
        import pyarrow as pa

        if rows:
            self.pending.append(pa.RecordBatch.from_pylist(rows, schema=self.schema))
            self.pending_rows += len(rows)
        if self.pending_rows >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.pending:
            table = pa.Table.from_batches(self.pending, schema=self.schema)
            self.writer.write_table(table, row_group_size=max(len(table), 1))
        self.pending = []
        self.pending_rows = 0

    def close(self) -> None:
        self._flush()
        self.writer.close()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


class CsvWriter:
    def __init__(self, sink: BinaryIO, colonnes: Sequence[Colonne]) -> None:
        self.names = [c.nom for c in colonnes]
        self.text = io.TextIOWrapper(sink, encoding="utf-8-sig", newline="", write_through=True)
        self.csv = csv.writer(self.text, delimiter=";", lineterminator="\r\n")
        self.csv.writerow([c.entete for c in colonnes])

    def write(self, rows: list[Row]) -> None:
        names = self.names
        self.csv.writerows([[_cell(row[n]) for n in names] for row in rows])
        self.text.flush()

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class JsonlWriter:
    def __init__(self, sink: BinaryIO, colonnes: Sequence[Colonne]) -> None:
        self.sink = sink
        self.encode = msgspec.json.Encoder().encode

    def write(self, rows: list[Row]) -> None:
        encode = self.encode
        self.sink.write(b"".join(encode(row) + b"\n" for row in rows))

    def close(self) -> None:
        self.sink.flush()


def open_writer(fmt: Format, sink: BinaryIO, colonnes: Sequence[Colonne]) -> Writer:
    kinds: dict[Format, type[ParquetWriter | CsvWriter | JsonlWriter]] = {
        Format.PARQUET: ParquetWriter,
        Format.CSV: CsvWriter,
        Format.JSONL: JsonlWriter,
    }
    return kinds[fmt](sink, colonnes)


class Chunks(io.RawIOBase):
    """A write-only sink whose bytes are taken out as they come (an HTTP response's body)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.parts.append(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out
