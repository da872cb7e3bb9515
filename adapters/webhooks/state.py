"""Where each subscription's deliveries stand, beside the log: its cursor (the log position
every event up to which was delivered or set aside), counters, the last error, and the dead
letters (deliveries given up after the policy's last try).

Two tables next to the log, on the configured store (`webhook_curseur`, `webhook_rebut`). The
cursor only moves forward by compare-and-set from the position the deliverer read: a replay
(`parcours webhooks replay`) that moved it meanwhile wins, and the deliverer starts again from
there.
"""

from datetime import UTC, datetime

import msgspec

from adapters.migrations import ensure_migrated
from adapters.settings import Settings
from adapters.sql import Db, Tx

ERROR_MAX = 500
"""Characters of an error kept (a receiver's body may be long)."""


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery given up: which event, after how many tries, why."""

    webhook_id: str
    position: int
    dossier_id: str
    type: str
    tentatives: int
    erreur: str
    le: datetime


class Cursor(msgspec.Struct, frozen=True, kw_only=True):
    abonnement_id: str
    position: int
    livrees: int
    echecs: int
    derniere_erreur: str | None
    derniere_livraison: datetime | None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class DeliveryState:
    """The two tables (made by `adapters.migrations`)."""

    def __init__(self, settings: Settings) -> None:
        ensure_migrated(settings)  # its tables: migration 1 (adapters/migrations.py)
        self.db = Db(settings)

    def start(self, abonnement_id: str, position: int) -> int:
        """The subscription's cursor, set at `position` the first time."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO webhook_curseur (abonnement_id, position) VALUES (%s, %s) "
                "ON CONFLICT (abonnement_id) DO NOTHING",
                (abonnement_id, position),
            )
            return int(
                tx.execute(
                    "SELECT position FROM webhook_curseur WHERE abonnement_id = %s",
                    (abonnement_id,),
                )[0][0]
            )

    def position(self, abonnement_id: str) -> int | None:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT position FROM webhook_curseur WHERE abonnement_id = %s", (abonnement_id,)
            )
        return int(rows[0][0]) if rows else None

    def advance(
        self,
        abonnement_id: str,
        read_from: int,
        to: int,
        delivered: int,
        last_error: str | None,
        dead: list[DeadLetter] | None = None,
    ) -> bool:
        """Move the cursor from `read_from` to `to` with the batch's deliveries and dead
        letters, in one transaction; False (nothing written) when the cursor moved meanwhile
        (failed tries are counted as they happen, `note_failure`)."""
        with self.db.transaction() as tx:
            moved = tx.execute(
                "UPDATE webhook_curseur SET position = %s, livrees = livrees + %s, "
                "derniere_erreur = COALESCE(%s, derniere_erreur), "
                "derniere_livraison = CASE WHEN %s > 0 THEN %s ELSE derniere_livraison END "
                "WHERE abonnement_id = %s AND position = %s RETURNING position",
                (
                    to,
                    delivered,
                    None if last_error is None else last_error[:ERROR_MAX],
                    delivered,
                    _now(),
                    abonnement_id,
                    read_from,
                ),
            )
            if not moved:
                return False
            self._bury(tx, abonnement_id, dead or [])
            return True

    def note_failure(self, abonnement_id: str, error: str) -> None:
        """A failed try, counted at once (the status shows an endpoint failing before its
        batch ends)."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE webhook_curseur SET echecs = echecs + 1, derniere_erreur = %s "
                "WHERE abonnement_id = %s",
                (error[:ERROR_MAX], abonnement_id),
            )

    def _bury(self, tx: Tx, abonnement_id: str, dead: list[DeadLetter]) -> None:
        tx.executemany(
            "INSERT INTO webhook_rebut (abonnement_id, webhook_id, position, dossier_id, type, "
            "tentatives, erreur, le) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (abonnement_id, webhook_id) DO UPDATE SET "
            "tentatives = excluded.tentatives, erreur = excluded.erreur, le = excluded.le",
            [
                (
                    abonnement_id,
                    d.webhook_id,
                    d.position,
                    d.dossier_id,
                    d.type,
                    d.tentatives,
                    d.erreur[:ERROR_MAX],
                    d.le.isoformat(),
                )
                for d in dead
            ],
        )

    def replay(self, abonnement_id: str, position: int) -> None:
        """Deliver again everything recorded after `position` (the running deliverer takes
        it up at its next batch)."""
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO webhook_curseur (abonnement_id, position) VALUES (%s, %s) "
                "ON CONFLICT (abonnement_id) DO UPDATE SET position = excluded.position",
                (abonnement_id, position),
            )

    def cursor(self, abonnement_id: str) -> Cursor | None:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT position, livrees, echecs, derniere_erreur, derniere_livraison "
                "FROM webhook_curseur WHERE abonnement_id = %s",
                (abonnement_id,),
            )
        if not rows:
            return None
        position, livrees, echecs, erreur, livraison = rows[0]
        return Cursor(
            abonnement_id=abonnement_id,
            position=int(position),
            livrees=int(livrees),
            echecs=int(echecs),
            derniere_erreur=erreur,
            derniere_livraison=_when(livraison),
        )

    def all_cursors(self) -> list[tuple[Cursor, int]]:
        """Every subscription's cursor with its count of dead letters (the metrics read it at
        each scrape: one row per subscription)."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT c.abonnement_id, c.position, c.livrees, c.echecs, c.derniere_erreur, "
                "c.derniere_livraison, (SELECT COUNT(*) FROM webhook_rebut r "
                "WHERE r.abonnement_id = c.abonnement_id) "
                "FROM webhook_curseur c ORDER BY c.abonnement_id"
            )
        return [
            (
                Cursor(
                    abonnement_id=a,
                    position=int(p),
                    livrees=int(n),
                    echecs=int(e),
                    derniere_erreur=err,
                    derniere_livraison=_when(last),
                ),
                int(dead),
            )
            for a, p, n, e, err, last, dead in rows
        ]

    def dead_letters(self, abonnement_id: str, limit: int = 100) -> tuple[int, list[DeadLetter]]:
        """How many deliveries were given up, and the first `limit` in log order."""
        with self.db.transaction() as tx:
            total = tx.execute(
                "SELECT COUNT(*) FROM webhook_rebut WHERE abonnement_id = %s", (abonnement_id,)
            )[0][0]
            rows = tx.execute(
                "SELECT webhook_id, position, dossier_id, type, tentatives, erreur, le "
                "FROM webhook_rebut WHERE abonnement_id = %s ORDER BY position LIMIT %s",
                (abonnement_id, limit),
            )
        return int(total), [
            DeadLetter(
                webhook_id=w,
                position=int(p),
                dossier_id=d,
                type=t,
                tentatives=int(n),
                erreur=e,
                le=datetime.fromisoformat(le),
            )
            for w, p, d, t, n, e, le in rows
        ]
