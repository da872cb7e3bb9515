"""The schema of the tables beside the log, as one ordered list of migrations.

Every table parcours keeps next to the event store's own (made by the eventsourcing library)
and to the read models' (made from their `TableSpec`, rebuilt by `adapters.readmodels.versions`)
is created or changed here and nowhere else: identities, import reports, the rdv-insertion
connector's tables, webhook cursors, the access log, the projections' quarantine.

Each migration has a number and a name; it is applied in a transaction of its own that also
records it in `schema_migration` (id, name, applied at), so a crash leaves it either applied
and recorded or neither. Migration 1 is the schema as it was before migrations existed, with
`IF NOT EXISTS` everywhere: a database created then only gets it recorded. Starts racing on a
new database are serialised by an advisory lock (PostgreSQL) or the write lock every SQLite
transaction here takes (`BEGIN IMMEDIATE`). A database that records a migration this code does
not know was upgraded by a newer release: nothing starts on it (`DatabaseTooNew`).

A new migration is appended to `MIGRATIONS` with the next number; one already released is never
edited (docs/ops/upgrade.md).
"""

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.settings import Settings
from adapters.sql import Db, Tx

SQLITE_ATTEMPTS = 20
"""Tries of one migration step on a SQLite file found locked (see `migrate`)."""

WORDS = {
    "sqlite": {
        "blob": "BLOB",
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "uuid": "TEXT",
        "time": "TEXT",
        "int": "INTEGER",
        "rowless": " WITHOUT ROWID",
    },
    "postgres": {
        "blob": "bytea",
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "uuid": "uuid",
        "time": "timestamptz",
        "int": "bigint",
        "rowless": "",
    },
}
"""How each store spells what differs in a statement (`{blob}`, `{serial}`…)."""


def _motif_decision(tx: Tx) -> None:
    """The dismissal's motif, on a review queue created before it was kept."""
    if tx.postgres:
        tx.execute("ALTER TABLE rdvi_a_revoir ADD COLUMN IF NOT EXISTS motif_decision TEXT")
    elif "motif_decision" not in {r[1] for r in tx.execute("PRAGMA table_info(rdvi_a_revoir)")}:
        tx.execute("ALTER TABLE rdvi_a_revoir ADD COLUMN motif_decision TEXT")


@dataclass(frozen=True)
class Migration:
    id: int
    name: str
    statements: tuple[str, ...]
    """SQL run in order, `{word}`s replaced by the store's spelling (`WORDS`)."""
    then: Callable[[Tx], None] | None = None
    """A step SQL alone cannot say the same way on both stores, run after the statements."""

    def sql(self, store: str) -> list[str]:
        return [s.format(**WORDS[store]) for s in self.statements]


INITIAL = (
    # Import reports (adapters/flux/reports.py).
    "CREATE TABLE IF NOT EXISTS flux_import (id TEXT PRIMARY KEY, recu_le TEXT NOT NULL, "
    "rapport TEXT NOT NULL)",
    # Identities, their keys and their search index (adapters/identity.py).
    "CREATE TABLE IF NOT EXISTS identite (case_id TEXT PRIMARY KEY, "
    "index_aveugle TEXT NOT NULL UNIQUE, nonce {blob} NOT NULL, donnees {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS identite_cle (case_id TEXT PRIMARY KEY, "
    "nonce {blob} NOT NULL, cle {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS identite_recherche (terme {blob} NOT NULL, "
    "case_id TEXT NOT NULL, PRIMARY KEY (terme, case_id))",
    "CREATE INDEX IF NOT EXISTS identite_recherche_dossier ON identite_recherche (case_id)",
    # The rdv-insertion connector (adapters/connectors/rdv_insertion_store.py).
    "CREATE TABLE IF NOT EXISTS rdvi_livraison (id {serial}, recue_le TEXT NOT NULL, "
    "point TEXT NOT NULL, empreinte TEXT NOT NULL UNIQUE, entetes TEXT NOT NULL, "
    "corps {blob} NOT NULL, etat TEXT NOT NULL, detail TEXT, traitee_le TEXT)",
    "CREATE INDEX IF NOT EXISTS rdvi_livraison_etat ON rdvi_livraison (etat, id)",
    "CREATE TABLE IF NOT EXISTS rdvi_ressource (modele TEXT NOT NULL, ressource_id TEXT NOT NULL, "
    "horodatage TEXT NOT NULL, supprime INTEGER NOT NULL, livraison_id BIGINT NOT NULL, "
    "PRIMARY KEY (modele, ressource_id))",
    "CREATE TABLE IF NOT EXISTS rdvi_participation (participation TEXT PRIMARY KEY, "
    "rdv_id TEXT NOT NULL, case_id TEXT NOT NULL, usager_id TEXT, numero INTEGER, "
    "statut TEXT NOT NULL, date_rdv TEXT, version_issue INTEGER)",
    "CREATE INDEX IF NOT EXISTS rdvi_participation_rdv ON rdvi_participation (rdv_id)",
    "CREATE TABLE IF NOT EXISTS rdvi_a_revoir (id {serial}, cle TEXT NOT NULL UNIQUE, "
    "livraison_id BIGINT NOT NULL, modele TEXT NOT NULL, ressource_id TEXT NOT NULL, "
    "participation TEXT, usager_id TEXT, "
    "motif TEXT NOT NULL, detail TEXT NOT NULL, personne TEXT NOT NULL, etat TEXT NOT NULL, "
    "case_id TEXT, decide_par TEXT, decide_le TEXT, cree_le TEXT NOT NULL, "
    "motif_decision TEXT)",
    "CREATE TABLE IF NOT EXISTS rdvi_lien (usager_id TEXT PRIMARY KEY, case_id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rdvi_invitation (invitation TEXT PRIMARY KEY, "
    "case_id TEXT NOT NULL, etats TEXT NOT NULL)",
    # Webhook deliveries (adapters/webhooks/state.py).
    "CREATE TABLE IF NOT EXISTS webhook_curseur (abonnement_id TEXT PRIMARY KEY, "
    "position BIGINT NOT NULL, livrees BIGINT NOT NULL DEFAULT 0, "
    "echecs BIGINT NOT NULL DEFAULT 0, derniere_erreur TEXT, derniere_livraison TEXT)",
    "CREATE TABLE IF NOT EXISTS webhook_rebut (abonnement_id TEXT NOT NULL, "
    "webhook_id TEXT NOT NULL, position BIGINT NOT NULL, dossier_id TEXT NOT NULL, "
    "type TEXT NOT NULL, tentatives INTEGER NOT NULL, erreur TEXT NOT NULL, "
    "le TEXT NOT NULL, PRIMARY KEY (abonnement_id, webhook_id))",
    # The access log (adapters/access_log.py).
    "CREATE TABLE IF NOT EXISTS journal_acces (at {time} NOT NULL, id {uuid} NOT NULL, "
    "agent TEXT NOT NULL, roles TEXT NOT NULL, structures TEXT NOT NULL, "
    "case_id {uuid} NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, "
    "purpose TEXT NOT NULL, motif TEXT, outcome TEXT NOT NULL, request_id TEXT, "
    "PRIMARY KEY (at, id)){rowless}",
    "CREATE INDEX IF NOT EXISTS journal_acces_case ON journal_acces (case_id, at)",
    "CREATE INDEX IF NOT EXISTS journal_acces_agent ON journal_acces (agent, at)",
    # Cases the read models set aside (adapters/readmodels/quarantine.py).
    "CREATE TABLE IF NOT EXISTS projection_quarantine (model TEXT NOT NULL, "
    "case_id {uuid} NOT NULL, position {int} NOT NULL, event_type TEXT NOT NULL, "
    "error TEXT NOT NULL, since {time} NOT NULL, PRIMARY KEY (model, case_id)){rowless}",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "schéma initial", INITIAL, then=_motif_decision),
    Migration(
        2,
        "versions des projections",
        (
            "CREATE TABLE IF NOT EXISTS read_model_version (name TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL, built_at TEXT NOT NULL)",
        ),
    ),
)
"""Every migration, in the order they apply; the last one's number is the schema's version."""

_RECORD = (
    "CREATE TABLE IF NOT EXISTS schema_migration (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at TEXT NOT NULL)"
)


class DatabaseTooNew(RuntimeError):
    """The database records migrations this release does not know: a newer release upgraded
    it. Starting would write with an older idea of its tables."""

    def __init__(self, unknown: Sequence[tuple[int, str]], known: int) -> None:
        names = ", ".join(f"{i} ({name})" for i, name in unknown)
        super().__init__(
            f"base de données plus récente que cette version de parcours : migration(s) {names} "
            f"inconnue(s) ici (dernière connue : {known}). Démarrez la version qui l'a migrée, "
            "ou restaurez la sauvegarde prise avant la mise à jour (docs/ops/upgrade.md)."
        )
        self.unknown = list(unknown)


@dataclass(frozen=True)
class Applied:
    id: int
    name: str
    applied_at: datetime


def _locked(tx: Tx) -> None:
    """One migrating process at a time (SQLite: the transaction's write lock already)."""
    if tx.postgres:
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('parcours.migrations'))")


def _recorded(tx: Tx) -> dict[int, str]:
    tx.execute(_RECORD)
    return {int(i): str(name) for i, name in tx.execute("SELECT id, name FROM schema_migration")}


def _check_known(done: dict[int, str], migrations: Sequence[Migration]) -> None:
    known = {m.id for m in migrations}
    unknown = sorted((i, name) for i, name in done.items() if i not in known)
    if unknown:
        raise DatabaseTooNew(unknown, max(known, default=0))


def migrate(settings: Settings, migrations: Sequence[Migration] = MIGRATIONS) -> list[Applied]:
    """Apply the migrations the database has not recorded, in order, each in its own
    transaction with its record; returns those applied (none: it was up to date). Raises
    `DatabaseTooNew` before applying anything when the database knows more than this code."""
    db = Db(settings)
    store = "postgres" if db.postgres else "sqlite"
    applied: list[Applied] = []
    now: datetime | None = None
    for migration in sorted(migrations, key=lambda m: m.id):
        for attempt in range(SQLITE_ATTEMPTS):
            try:
                now = _apply(db, store, migration, migrations)
                break
            except sqlite3.OperationalError as e:
                # Processes opening a new SQLite file at once can find it locked before the
                # busy timeout applies (switching it to WAL): the step is tried again.
                if "locked" not in str(e) or attempt == SQLITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        if now is not None:
            applied.append(Applied(migration.id, migration.name, now))
    if not migrations:
        with db.transaction() as tx:
            _check_known(_recorded(tx), migrations)
    _MIGRATED.add(_target(settings))
    return applied


def _apply(
    db: Db, store: str, migration: Migration, migrations: Sequence[Migration]
) -> datetime | None:
    """One migration and its record in one transaction; None when it was already applied."""
    with db.transaction() as tx:
        _locked(tx)
        done = _recorded(tx)
        _check_known(done, migrations)
        if migration.id in done:
            return None
        for statement in migration.sql(store):
            tx.execute(statement)
        if migration.then is not None:
            migration.then(tx)
        now = datetime.now(UTC)
        tx.execute(
            "INSERT INTO schema_migration (id, name, applied_at) VALUES (%s, %s, %s)",
            (migration.id, migration.name, now.isoformat()),
        )
    return now


def recorded(settings: Settings) -> list[Applied]:
    """The migrations the database records, in order."""
    with Db(settings).transaction() as tx:
        tx.execute(_RECORD)
        rows = tx.execute("SELECT id, name, applied_at FROM schema_migration ORDER BY id")
    return [Applied(int(i), str(n), datetime.fromisoformat(str(a))) for i, n, a in rows]


def _target(settings: Settings) -> tuple[str, ...]:
    if settings.store == "sqlite":
        return ("sqlite", str(settings.sqlite_file))
    return (
        "postgres",
        settings.postgres_host,
        str(settings.postgres_port),
        settings.postgres_dbname,
        settings.postgres_schema,
    )


_MIGRATED: set[tuple[str, ...]] = set()
_MIGRATING = threading.Lock()


def ensure_migrated(settings: Settings) -> None:
    """The database migrated, once per process: what each store beside the log calls before
    its first statement (the server, the worker and the demo migrate at start already; a
    command run alone on a new database finds its tables all the same)."""
    target = _target(settings)
    if target in _MIGRATED:
        return
    with _MIGRATING:
        if target not in _MIGRATED:
            migrate(settings)
