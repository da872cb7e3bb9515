"""What the benchmarks share: a throw-away schema of a PostgreSQL database, timing, the machine
they ran on, and their own sections of docs/benchmarks.md."""

import os
import platform
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from adapters.settings import Settings, ensure_postgres_database

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """What `fn` returns, and how many seconds it took."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def machine() -> str:
    """Cores, CPU model (from /proc/cpuinfo) and Python version."""
    model = "unknown cpu"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def platform_summary() -> str:
    """Cores, processor as the platform names it, and Python version."""
    return (
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def bench_settings(dbname: str, schema: str, **env: str) -> Settings:
    """Settings for `schema` of the PostgreSQL database `dbname` (created when missing), the
    rest from the environment and `env`."""
    settings = Settings.from_env(
        {
            **os.environ,
            "PARCOURS_STORE": "postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_SCHEMA": schema,
            **env,
        }
    )
    ensure_postgres_database(settings)
    return settings


def drop_schema(settings: Settings) -> None:
    """Drop the benchmark's schema and all it holds."""
    with psycopg.connect(**settings.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(settings.postgres_schema))
        )


def raw_events_table(conn: psycopg.Connection[Any], schema: str) -> sql.Identifier:
    """A bare table of event rows, with no index but its key: the raw limit COPY is measured
    against."""
    table = sql.Identifier(schema, "raw_events")
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
            " topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        ).format(table)
    )
    return table


def copy_rows(
    conn: psycopg.Connection[Any], table: sql.Identifier, rows: Iterable[tuple[Any, ...]]
) -> None:
    """COPY (originator_id, originator_version, topic, state) rows into `table`."""
    with (
        conn.cursor() as cur,
        cur.copy(
            sql.SQL("COPY {} (originator_id, originator_version, topic, state) FROM STDIN").format(
                table
            )
        ) as cp,
    ):
        for row in rows:
            cp.write_row(row)


def write_section(begin: str, end: str, lines: list[str]) -> None:
    """Replace the lines between the markers `begin` and `end` of docs/benchmarks.md (markers
    included in `lines`), or append them when the section is not there yet."""
    text = DOC.read_text() if DOC.exists() else ""
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + "\n".join(lines) + tail
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    DOC.write_text(text)
