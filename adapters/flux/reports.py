"""Import reports: what each flux file did, kept next to the log and read back by the API.

A report names households by their rank and line in the file, never by a person's identity, so
it can be kept as long as the log.
"""

from datetime import date, datetime
from uuid import UUID

import msgspec

from adapters.migrations import ensure_migrated
from adapters.settings import Settings
from adapters.sql import Db


class Rejet(msgspec.Struct, frozen=True, kw_only=True):
    ligne: int
    foyer: int | None = None
    """Rank of the household in the file (1 = first); None when the whole file is refused."""
    motif: str
    code: str | None = None
    """Why the whole file is refused (`flux_non_conforme`, `flux_hors_limites`,
    `flux_encodage`, `flux_sans_foyer`); None for a household left out."""


class Rapport(msgspec.Struct, kw_only=True):
    id: UUID
    fichier: str
    sha256: str
    statut: str = "en_cours"
    """`importe` (possibly with rejected households), `rejete` (file refused), `en_cours`."""
    recu_le: datetime
    termine_le: datetime | None = None
    type_flux: str | None = None
    date_flux: date | None = None
    foyers: int = 0
    foyers_importes: int = 0
    foyers_inchanges: int = 0
    foyers_rejetes: int = 0
    dossiers_crees: int = 0
    personnes_non_suivies: int = 0
    """Persons with no case and no right opened for someone bound to rights and duties."""
    identites_mises_a_jour: int = 0
    """Known persons whose identity (address, name…) the flux changed."""
    evenements: dict[str, int] = {}
    evenements_total: int = 0
    rejets: list[Rejet] = []


class Resume(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    fichier: str
    statut: str
    recu_le: datetime
    evenements_total: int
    foyers_rejetes: int


class ReportStore:
    def __init__(self, settings: Settings) -> None:
        ensure_migrated(settings)  # its table: migration 1 (adapters/migrations.py)
        self.db = Db(settings)

    def save(self, rapport: Rapport) -> None:
        body = msgspec.json.encode(rapport).decode()
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO flux_import VALUES (%s,%s,%s) "
                "ON CONFLICT (id) DO UPDATE SET rapport = excluded.rapport",
                (rapport.id.hex, rapport.recu_le.isoformat(), body),
            )

    def get(self, import_id: UUID) -> Rapport | None:
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT rapport FROM flux_import WHERE id = %s", (import_id.hex,))
        return msgspec.json.decode(rows[0][0], type=Rapport) if rows else None

    def page(self, limit: int = 100, offset: int = 0) -> tuple[list[Resume], int]:
        """The reports from `offset`, newest first, and how many there are: one statement, so
        one snapshot (an import saving its report meanwhile is in both or in neither); a page
        past the end is one row with the total and no report."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT n.total, page.rapport FROM (SELECT count(*) AS total FROM flux_import) n "
                "LEFT JOIN (SELECT rapport, recu_le, id FROM flux_import "
                "ORDER BY recu_le DESC, id LIMIT %s OFFSET %s) page ON 1 = 1 "
                "ORDER BY page.recu_le DESC, page.id",
                (limit, offset),
            )
        items = [msgspec.json.decode(r[1], type=Resume) for r in rows if r[1] is not None]
        return items, int(rows[0][0])

    def count_by_status(self) -> dict[str, int]:
        """How many imports ended in each status (`importe`, `rejete`, `en_cours` while one
        runs or if it died): one row per file received, read by the metrics at each scrape."""
        status = (
            "rapport::json->>'statut'" if self.db.postgres else "json_extract(rapport, '$.statut')"
        )
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {status}, COUNT(*) FROM flux_import GROUP BY 1")
        return {str(s): int(n) for s, n in rows}
