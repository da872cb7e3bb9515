"""What a database's catalogue says of its tables: enough to tell two schemas apart (columns,
types, nullability, defaults, keys, indexes), with the PostgreSQL schema's name left out."""

import sqlite3
from typing import Any

import psycopg

from adapters.settings import Settings


def catalog(settings: Settings, tables: set[str] | None = None) -> dict[str, Any]:
    """Each table's definition, keyed by table name (only `tables` when given)."""
    out = _sqlite(settings) if settings.store == "sqlite" else _postgres(settings)
    return {k: v for k, v in out.items() if tables is None or k in tables}


def _sqlite(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with sqlite3.connect(settings.sqlite_file) as lite:
        rows = lite.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_%' ORDER BY tbl_name, type DESC, name"
        ).fetchall()
    for kind, name, table, text in rows:
        # A renamed table's text names it quoted (`CREATE TABLE "suivi"`): the same table.
        out.setdefault(table, []).append([kind, name, text.replace(f'"{table}"', table)])
    return out


def _postgres(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    schema = settings.postgres_schema
    with psycopg.connect(**settings.postgres_conninfo()) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, "
            "coalesce(column_default, ''), is_identity, coalesce(identity_generation, '') "
            "FROM information_schema.columns WHERE table_schema = %s "
            "ORDER BY table_name, ordinal_position",
            (schema,),
        ).fetchall()
        for table, *column in columns:
            out.setdefault(table, {"columns": [], "constraints": [], "indexes": []})
            out[table]["columns"].append(list(column))
        constraints = conn.execute(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s ORDER BY 1, 2",
            (schema,),
        ).fetchall()
        for table, name, definition in constraints:
            out[table]["constraints"].append([name, definition])
        indexes = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
            "ORDER BY 1, 2",
            (schema,),
        ).fetchall()
        for table, name, definition in indexes:
            out[table]["indexes"].append(
                [
                    name,
                    definition.replace(f'"{schema}".', "SCHEMA.").replace(f"{schema}.", "SCHEMA."),
                ]
            )
    return out
