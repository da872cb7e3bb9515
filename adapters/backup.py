"""Backups of the records: one file holding, read in one snapshot, every table that is a record
and not a read model (the log as stored, the idempotency keys, the sealed identity vault, the
access log, the import reports, the connectors' and webhooks' state), and the restore of such a
file into an empty database. Read models are not in it: they are rebuilt from the log.

The file (format 1), every byte of which a checksum covers:

    MAGIC                       b"PARCOURS-SAUVEGARDE 1\\n"
    section 1 … section n       each one zstandard stream of frames: 4-byte big-endian
                                length, then a msgpack list of rows (each a list of values)
    manifest                    JSON (`Manifest`): format, versions, store, time, last log
                                position, and per section its table, columns, rows, offset,
                                length and SHA-256 of its bytes
    trailer                     8-byte big-endian manifest length, SHA-256 of the manifest,
                                END

Values are kept as SQLite keeps them (UUIDs as 32 hex digits, times as ISO 8601 in UTC, booleans
as 0/1), whichever store wrote them, so a backup of either store restores into either. Rows are
streamed (memory stays flat on a large log) into a temporary file renamed once whole.

A restore checks the layout, the manifest's checksum and every section's checksum and row count
before writing anything, refuses a target whose record tables hold a row, then loads every
section in one transaction (the log's positions kept; on PostgreSQL the sequences set after the
highest id). docs/ops/backup.md says what is in each section and why.
"""

import hashlib
import os
import sqlite3
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

import msgspec
import psycopg
import zstandard
from psycopg import sql

from adapters.eventlog.reading import log_holds_rows, stored_rows
from adapters.eventlog.recorders import PostgresRecorder
from adapters.eventlog.store import Parcours
from adapters.sql import FETCH

FORMAT = 1
MAGIC = b"PARCOURS-SAUVEGARDE 1\n"
END = b"PCRSFIN1"
TRAILER = struct.Struct(">Q32s8s")
FRAME = struct.Struct(">I")
BATCH = 2000
"""Rows per frame: a few hundred kilobytes of payloads at most in memory."""
LEVEL = 1
"""zstandard's level: measured in docs/benchmarks.md ("Backup and restore"): as small as level 3
on the log (payloads are short JSON documents), at more than twice the speed."""
LOG_COLUMNS = ("notification_id", "originator_id", "originator_version", "topic", "state")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the operator (French)."""


class CorruptBackup(BackupError):
    """The file is not a whole, unaltered backup: nothing was written."""


class TargetNotEmpty(BackupError):
    """The database to restore into already holds records: nothing was written."""


# --- what a backup holds ---------------------------------------------------------------------


def _log_table(app: Parcours) -> str:
    return app.recorder.events_table_name


def _idempotency_table(app: Parcours) -> str:
    if isinstance(app.recorder, PostgresRecorder):
        return app.recorder.events_table_name.removesuffix("_events") + "_idempotency"
    return "idempotency"


def _beside_log(name: str) -> Callable[[Parcours], str]:
    """A table the recorder keeps next to the events (`<prefix>_<name>` on PostgreSQL)."""

    def table(app: Parcours) -> str:
        if isinstance(app.recorder, PostgresRecorder):
            return app.recorder.events_table_name.removesuffix("_events") + "_" + name
        return name

    return table


def _named(name: str) -> Callable[[Parcours], str]:
    return lambda app: name


def _opens_log(app: Parcours) -> None:
    """The log's tables are created with the application (already open)."""


def _opens_vault(app: Parcours) -> None:
    from adapters.identity import IdentityStore

    IdentityStore(app.settings)


def _opens_access_log(app: Parcours) -> None:
    from adapters.access_log import AccessLog

    AccessLog.of(app)


def _opens_reports(app: Parcours) -> None:
    from adapters.flux.reports import ReportStore

    ReportStore(app.settings)


def _opens_rdvi(app: Parcours) -> None:
    from adapters.connectors.rdv_insertion_store import RdviStore

    RdviStore(app.settings)


def _opens_webhooks(app: Parcours) -> None:
    from adapters.webhooks.state import DeliveryState

    DeliveryState(app.settings)


@dataclass(frozen=True)
class Section:
    """One table of a backup: its name in the file, its name in a store, the order of its rows,
    and what creates it on a new database."""

    name: str
    table: Callable[[Parcours], str]
    order: str
    opens: Callable[[Parcours], None]


SECTIONS: tuple[Section, ...] = (
    Section("evenements", _log_table, "notification_id", _opens_log),
    Section("idempotence", _idempotency_table, "key", _opens_log),
    Section("chaine", _beside_log("chaine"), "position", _opens_log),
    Section("point_controle", _beside_log("point_controle"), "id", _opens_log),
    Section("identite", _named("identite"), "case_id", _opens_vault),
    Section("identite_cle", _named("identite_cle"), "case_id", _opens_vault),
    Section("identite_recherche", _named("identite_recherche"), "terme, case_id", _opens_vault),
    Section("journal_acces", _named("journal_acces"), "at, id", _opens_access_log),
    Section("flux_import", _named("flux_import"), "id", _opens_reports),
    Section("rdvi_livraison", _named("rdvi_livraison"), "id", _opens_rdvi),
    Section("rdvi_ressource", _named("rdvi_ressource"), "modele, ressource_id", _opens_rdvi),
    Section("rdvi_participation", _named("rdvi_participation"), "participation", _opens_rdvi),
    Section("rdvi_a_revoir", _named("rdvi_a_revoir"), "id", _opens_rdvi),
    Section("rdvi_lien", _named("rdvi_lien"), "usager_id", _opens_rdvi),
    Section("rdvi_invitation", _named("rdvi_invitation"), "invitation", _opens_rdvi),
    Section("webhook_curseur", _named("webhook_curseur"), "abonnement_id", _opens_webhooks),
    Section("webhook_rebut", _named("webhook_rebut"), "abonnement_id, webhook_id", _opens_webhooks),
)
"""Every record table, the log first. A record table added later is one line here; a read
model never is (it is rebuilt from the log)."""

LOG_SECTION = SECTIONS[0].name


def _open_all(app: Parcours) -> None:
    """Create every section's table where missing (each opener once)."""
    for opens in dict.fromkeys(s.opens for s in SECTIONS):
        opens(app)


class SectionEntry(msgspec.Struct, kw_only=True):
    name: str
    table: str
    columns: list[str]
    rows: int
    offset: int
    length: int
    sha256: str


class Manifest(msgspec.Struct, kw_only=True):
    format: int
    parcours_version: str
    store: str
    created_at: datetime
    last_position: int
    """The log's highest notification id in the snapshot (0: an empty log)."""
    sections: list[SectionEntry]

    def section(self, name: str) -> SectionEntry | None:
        return next((s for s in self.sections if s.name == name), None)


def parcours_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("parcours")
    except PackageNotFoundError:  # pragma: no cover (run from a tree not installed)
        return "inconnue"


# --- values as SQLite keeps them ---------------------------------------------------------------

Convert = Callable[[Any], Any] | None


def _portable(pg_type: str) -> Convert:
    """From a PostgreSQL value to SQLite's form of it."""
    if pg_type == "uuid":
        return lambda v: v.hex
    if pg_type == "timestamp with time zone":
        return lambda v: v.astimezone(UTC).isoformat()
    if pg_type == "date":
        return lambda v: v.isoformat()
    if pg_type == "boolean":
        return int
    if pg_type == "bytea":
        return bytes
    return None


BINARY = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "text": "text",
    "bytea": "bytea",
    "uuid": "uuid",
    "timestamp with time zone": "timestamptz",
    "boolean": "bool",
    "date": "date",
}
"""PostgreSQL's column types a binary COPY is given for, by their information_schema name."""


def _uuid(value: Any) -> UUID:
    """32 hex digits (or a UUID) as a UUID: from the integer, the quickest way in."""
    return value if isinstance(value, UUID) else UUID(int=int(value.replace("-", ""), 16))


def _native(pg_type: str) -> Convert:
    """From SQLite's form of a value to the PostgreSQL column's."""
    if pg_type == "uuid":
        return _uuid
    if pg_type == "timestamp with time zone":
        return datetime.fromisoformat
    if pg_type == "date":
        return date.fromisoformat
    if pg_type == "boolean":
        return bool
    return None


def _converted(rows: Sequence[Sequence[Any]], converters: Sequence[Convert]) -> list[list[Any]]:
    work = [(i, f) for i, f in enumerate(converters) if f is not None]
    out = []
    for row in rows:
        values = list(row)
        for i, f in work:
            if values[i] is not None:
                values[i] = f(values[i])
        out.append(values)
    return out


# --- the store, on one connection --------------------------------------------------------------


class _Store:
    """One connection to the configured store and what a backup or restore asks of it."""

    def __init__(self, app: Parcours, conn: sqlite3.Connection | psycopg.Connection[Any]) -> None:
        self.app = app
        self.conn = conn
        self.postgres = isinstance(conn, psycopg.Connection)
        self.schema = app.settings.postgres_schema

    def ref(self, table: str) -> sql.Composable:
        return sql.Identifier(self.schema, table) if self.postgres else sql.Identifier(table)

    def columns(self, table: str) -> list[tuple[str, str]] | None:
        """The table's (column, declared type) in order; None when it does not exist."""
        if isinstance(self.conn, psycopg.Connection):
            rows = self.conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (self.schema, table),
            ).fetchall()
        else:
            rows = self.conn.execute(f'PRAGMA table_info("{table}")').fetchall()
            rows = [(r[1], str(r[2]).lower()) for r in rows]
        return [(str(n), str(t)) for n, t in rows] or None

    def holds_rows(self, section: Section) -> bool:
        """Whether the section's table has a row (the log's through its one reader)."""
        if section.name == LOG_SECTION:
            return log_holds_rows(self.app, self.conn)
        table = section.table(self.app)
        if self.columns(table) is None:
            return False
        if isinstance(self.conn, psycopg.Connection):
            query = sql.SQL("SELECT 1 FROM {} LIMIT 1").format(self.ref(table))
            return self.conn.execute(query).fetchone() is not None
        return self.conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None

    def scan(self, section: Section, columns: Sequence[str]) -> Iterator[list[Any]]:
        """The section's rows in SQLite's form, a batch at a time, in this transaction."""
        if section.name == LOG_SECTION:
            for rows in stored_rows(self.app, self.conn, BATCH):
                if self.postgres:  # the case id as SQLite keeps it: 32 hex digits
                    yield [[p, c.hex, v, t, s] for p, c, v, t, s in rows]
                else:
                    yield rows
            return
        table = section.table(self.app)
        listed = ", ".join(f'"{c}"' for c in columns)
        if isinstance(self.conn, psycopg.Connection):
            types = dict(self.columns(table) or [])
            converters = [_portable(types[c]) for c in columns]
            query = sql.SQL(f"SELECT {listed} FROM {{}} ORDER BY {section.order}").format(
                self.ref(table)
            )
            with self.conn.cursor(name=f"backup_{section.name}", binary=True) as cursor:
                cursor.itersize = FETCH
                cursor.execute(query)
                while rows := cursor.fetchmany(BATCH):
                    yield _converted(rows, converters)
            return
        lite = self.conn.execute(f'SELECT {listed} FROM "{table}" ORDER BY {section.order}')
        while batch := lite.fetchmany(BATCH):
            yield [list(r) for r in batch]


@contextmanager
def _snapshot(app: Parcours) -> Iterator[_Store]:
    """A read-only transaction in which every read sees the same state of the database."""
    s = app.settings
    if s.store == "postgres":
        with psycopg.connect(**s.postgres_conninfo(), connect_timeout=10) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            try:
                yield _Store(app, conn)
            finally:
                conn.rollback()
        return
    lite = sqlite3.connect(f"file:{s.sqlite_file}?mode=ro", uri=True, timeout=30)
    lite.isolation_level = None
    try:
        lite.execute("BEGIN")
        yield _Store(app, lite)
        lite.execute("COMMIT")
    finally:
        lite.close()


@contextmanager
def _writing(app: Parcours) -> Iterator[_Store]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    s = app.settings
    if s.store == "postgres":
        with (
            psycopg.connect(**s.postgres_conninfo(), connect_timeout=10) as conn,
            conn.transaction(),
        ):
            yield _Store(app, conn)
        return
    lite = sqlite3.connect(s.sqlite_file, timeout=30)
    lite.isolation_level = None
    try:
        lite.execute("BEGIN IMMEDIATE")
        try:
            yield _Store(app, lite)
        except BaseException:
            lite.execute("ROLLBACK")
            raise
        lite.execute("COMMIT")
    finally:
        lite.close()


# --- writing a backup --------------------------------------------------------------------------


class _Counted:
    """Writes through to the file, counting and hashing what passes."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.sha = hashlib.sha256()
        self.length = 0

    def write(self, data: bytes) -> int:
        self.sink.write(data)
        self.sha.update(data)
        self.length += len(data)
        return len(data)

    def flush(self) -> None:
        self.sink.flush()


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.partiel")


def write_backup(
    app: Parcours, target: Path, progress: Callable[[str, int], None] | None = None
) -> Manifest:
    """Write the backup of `app`'s store to `target` (replaced only once whole); its manifest.
    `progress(section, rows)` is called after each batch written."""
    if not target.parent.is_dir():
        raise BackupError(f"dossier inexistant : {target.parent}")
    _open_all(app)  # the tables a new database has (a read snapshot cannot create them)
    partial = _partial(target)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            manifest = _write(app, out, progress)
            body = msgspec.json.encode(manifest)
            out.write(body)
            out.write(TRAILER.pack(len(body), hashlib.sha256(body).digest(), END))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return manifest


def _write(app: Parcours, out: IO[bytes], progress: Callable[[str, int], None] | None) -> Manifest:
    out.write(MAGIC)
    offset = len(MAGIC)
    entries = []
    encode = msgspec.msgpack.Encoder().encode
    with _snapshot(app) as store:
        last = 0
        for section in SECTIONS:
            table = section.table(app)
            if section.name == LOG_SECTION:
                columns = list(LOG_COLUMNS)
            else:
                columns = [name for name, _ in store.columns(table) or []]
            counted = _Counted(out)
            rows = 0
            with zstandard.ZstdCompressor(level=LEVEL).stream_writer(
                cast(IO[bytes], counted), closefd=False
            ) as packed:
                for batch in store.scan(section, columns) if columns else ():
                    if section.name == LOG_SECTION:
                        last = batch[-1][0]  # rows in position order: the snapshot's last
                    frame = encode(batch)
                    packed.write(FRAME.pack(len(frame)))
                    packed.write(frame)
                    rows += len(batch)
                    if progress is not None:
                        progress(section.name, rows)
            entries.append(
                SectionEntry(
                    name=section.name,
                    table=table,
                    columns=columns,
                    rows=rows,
                    offset=offset,
                    length=counted.length,
                    sha256=counted.sha.hexdigest(),
                )
            )
            offset += counted.length
    return Manifest(
        format=FORMAT,
        parcours_version=parcours_version(),
        store=app.settings.store,
        created_at=app.clock(),
        last_position=last,
        sections=entries,
    )


# --- reading one back --------------------------------------------------------------------------


class _Range:
    """A section's bytes of the file, hashed as they are read."""

    def __init__(self, source: IO[bytes], entry: SectionEntry) -> None:
        source.seek(entry.offset)
        self.source = source
        self.left = entry.length
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.left:
            size = self.left
        data = self.source.read(size)
        self.left -= len(data)
        self.sha.update(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


MAX_FRAME = 1 << 28
"""No frame of ours is this large: a larger length is a corrupted one (never allocated)."""


def _exactly(reader: Any, size: int) -> bytes:
    if size > MAX_FRAME:
        raise CorruptBackup("section altérée (longueur de bloc impossible)")
    parts = []
    while size:
        chunk = reader.read(min(size, 1 << 20))
        if not chunk:
            raise CorruptBackup("section tronquée")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _batches(source: IO[bytes], entry: SectionEntry) -> Iterator[list[list[Any]]]:
    """A section's rows, a frame at a time; CorruptBackup, once read to its end, if its bytes
    do not hash to the manifest's or its rows are not as many."""
    span = _Range(source, entry)
    decode = msgspec.msgpack.Decoder(list[list[Any]]).decode
    rows = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(
            cast(IO[bytes], span), read_across_frames=True, closefd=False
        ) as reader:
            while head := reader.read(FRAME.size):
                if len(head) < FRAME.size:
                    head += _exactly(reader, FRAME.size - len(head))
                (size,) = FRAME.unpack(head)
                batch = decode(_exactly(reader, size))
                rows += len(batch)
                yield batch
        span.drain()
    except (zstandard.ZstdError, msgspec.DecodeError) as e:
        raise CorruptBackup(f"section « {entry.name} » illisible ({e})") from e
    if span.sha.hexdigest() != entry.sha256:
        raise CorruptBackup(f"section « {entry.name} » altérée (empreinte SHA-256 différente)")
    if rows != entry.rows:
        raise CorruptBackup(f"section « {entry.name} » : {rows} lignes, {entry.rows} annoncées")


def read_manifest(source: IO[bytes]) -> Manifest:
    """The manifest, checked against its checksum and the file's layout; CorruptBackup else."""
    size = source.seek(0, os.SEEK_END)
    source.seek(0)
    if size < len(MAGIC) + TRAILER.size or source.read(len(MAGIC)) != MAGIC:
        raise CorruptBackup("ce fichier n'est pas une sauvegarde parcours (en-tête absent)")
    source.seek(size - TRAILER.size)
    length, digest, end = TRAILER.unpack(source.read(TRAILER.size))
    if end != END or length > size - TRAILER.size - len(MAGIC):
        raise CorruptBackup("sauvegarde tronquée ou altérée (fin de fichier)")
    source.seek(size - TRAILER.size - length)
    body = source.read(length)
    if hashlib.sha256(body).digest() != digest:
        raise CorruptBackup("manifeste altéré (empreinte SHA-256 différente)")
    try:
        manifest = msgspec.json.decode(body, type=Manifest)
    except msgspec.DecodeError as e:
        raise CorruptBackup(f"manifeste illisible ({e})") from e
    if manifest.format != FORMAT:
        raise BackupError(f"format de sauvegarde {manifest.format} inconnu de cette version")
    offset = len(MAGIC)
    for entry in manifest.sections:
        if entry.offset != offset:
            raise CorruptBackup(f"section « {entry.name} » mal placée")
        offset += entry.length
    if offset != size - TRAILER.size - length:
        raise CorruptBackup("sauvegarde altérée (sections et manifeste ne couvrent pas le fichier)")
    known = {s.name for s in SECTIONS}
    unknown = [e.name for e in manifest.sections if e.name not in known]
    if unknown:
        raise BackupError(f"sections inconnues de cette version : {', '.join(unknown)}")
    return manifest


def verify(path: Path) -> Manifest:
    """Check every byte of the backup (layout, manifest, each section's checksum, then its
    rows) without writing anything; its manifest, or CorruptBackup saying what is wrong."""
    with path.open("rb") as source:
        manifest = read_manifest(source)
        for entry in manifest.sections:
            span = _Range(source, entry)
            span.drain()
            if span.sha.hexdigest() != entry.sha256:
                raise CorruptBackup(
                    f"section « {entry.name} » altérée (empreinte SHA-256 différente)"
                )
        for entry in manifest.sections:
            for _ in _batches(source, entry):
                pass
    return manifest


# --- restoring ---------------------------------------------------------------------------------


def restore(
    app: Parcours, path: Path, progress: Callable[[str, int], None] | None = None
) -> Manifest:
    """Load the backup at `path` into `app`'s store, which must hold no record: every checksum
    checked first, then every section in one transaction (a failure leaves nothing)."""
    manifest = verify(path)
    _open_all(app)
    by_name = {s.name: s for s in SECTIONS}
    with _writing(app) as store, path.open("rb") as source:
        held = [s.name for s in SECTIONS if store.holds_rows(s)]
        if held:
            raise TargetNotEmpty(
                "la base cible n'est pas vide (" + ", ".join(held) + ") : la restauration se "
                "fait dans une base neuve"
            )
        for entry in manifest.sections:
            if entry.rows:
                _load(store, by_name[entry.name], entry, source, progress)
    return manifest


def _load(
    store: _Store,
    section: Section,
    entry: SectionEntry,
    source: IO[bytes],
    progress: Callable[[str, int], None] | None,
) -> None:
    table = section.table(store.app)
    types = dict(store.columns(table) or [])
    names = [
        "rowid"
        if (c == "notification_id" and not store.postgres and section.name == LOG_SECTION)
        else c
        for c in entry.columns
    ]
    missing = [c for c in names if c not in types and c != "rowid"]
    if missing:
        raise BackupError(
            f"section « {entry.name} » : colonnes absentes de la table {table} : "
            + ", ".join(missing)
        )
    done = 0
    if isinstance(store.conn, psycopg.Connection):
        converters = [_native(types[c]) for c in names]
        binary = [BINARY.get(types[c]) for c in names]
        copy = sql.SQL("COPY {} ({}) FROM STDIN").format(
            store.ref(table), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        if all(binary):  # payloads sent as they are, not escaped as text
            copy += sql.SQL(" (FORMAT BINARY)")
        with store.conn.cursor() as cursor, cursor.copy(copy) as sink:
            if all(binary):
                sink.set_types([b for b in binary if b])
            for batch in _batches(source, entry):
                for row in _converted(batch, converters):
                    sink.write_row(row)
                done += len(batch)
                if progress is not None:
                    progress(entry.name, done)
        _reset_sequences(store.conn, store.ref(table), store.schema, table)
        return
    listed = ", ".join(f'"{c}"' if c != "rowid" else c for c in names)
    insert = f'INSERT INTO "{table}" ({listed}) VALUES ({", ".join("?" * len(names))})'
    for batch in _batches(source, entry):
        store.conn.executemany(insert, batch)
        done += len(batch)
        if progress is not None:
            progress(entry.name, done)


def _reset_sequences(
    conn: psycopg.Connection[Any], ref: sql.Composable, schema: str, table: str
) -> None:
    """The next id a sequence (serial or identity column) gives follows the highest loaded."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%')",
        (schema, table),
    ).fetchall()
    qualified = f'"{schema}"."{table}"'
    for (column,) in rows:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), max({column})) FROM {table}"
            ).format(column=sql.Identifier(column), table=ref),
            (qualified, column),
        )
