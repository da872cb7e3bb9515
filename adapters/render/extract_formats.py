"""The formats an extract is written in: named apart from their writers so that choosing one
(a command-line option, a query parameter) loads no Parquet library."""

from enum import StrEnum


class Format(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"
    JSONL = "jsonl"
