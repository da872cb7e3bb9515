"""The rdv-insertion connector's tables, beside the log: the inbox of raw deliveries, what was
last applied of each resource and participation, the review queue and the links agents made.

The inbox is written before the sender gets its 2xx; everything else is written by the one
process that processes the inbox, in the same transaction as the delivery's new state.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from adapters.identity import IdentityStore
from adapters.migrations import ensure_migrated
from adapters.settings import Settings
from adapters.sql import Db, Tx

A_TRAITER = "a_traiter"
TRAITEE = "traitee"
IGNOREE = "ignoree"
ERREUR = "erreur"


class Livraison(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    recue_le: str
    point: str
    corps: bytes


class Ressource(msgspec.Struct, frozen=True, kw_only=True):
    modele: str
    ressource_id: str
    horodatage: str
    supprime: bool
    livraison_id: int


class SuiviParticipation(msgspec.Struct, frozen=True, kw_only=True):
    """What parcours recorded for one rdv-insertion participation."""

    participation: str
    rdv_id: str
    case_id: str
    usager_id: str | None = None
    numero: int | None = None
    statut: str = "unknown"
    date_rdv: str | None = None
    version_issue: int | None = None


class AReviser(msgspec.Struct, frozen=True, kw_only=True):
    """A participant or a step parcours could not record by itself."""

    cle: str
    livraison_id: int
    modele: str
    """`Rdv` or `Invitation`."""
    ressource_id: str
    participation: str | None
    usager_id: str | None
    motif: str
    detail: str
    personne: dict[str, Any] = {}


class ElementARevoir(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    livraison_id: int
    modele: str
    ressource_id: str
    participation: str | None
    usager_id: str | None
    motif: str
    detail: str
    personne: dict[str, Any]
    etat: str
    case_id: str | None
    decide_par: str | None
    decide_le: str | None
    cree_le: str
    motif_decision: str | None = None
    """Why an agent dismissed the item."""


class RdviStore:
    """The connector's tables on the configured store (made by `adapters.migrations`). `pooled` (the
    server's): the door's INSERT takes a pooled connection (PostgreSQL) or its thread's
    connection kept open (SQLite) instead of opening one per delivery (on PostgreSQL tens of
    milliseconds, most of its time); `close` closes them."""

    def __init__(self, settings: Settings, *, pooled: bool = False) -> None:
        self.db = Db(settings, pooled=pooled, kept_sqlite=pooled)
        ensure_migrated(settings)  # its tables: migration 1 (adapters/migrations.py)
        self._encode = msgspec.json.encode

    def close(self) -> None:
        self.db.close()

    # --- the door ----------------------------------------------------------------------------

    def receive(
        self, body: bytes, point: str, empreinte: str, entetes: dict[str, str], now: datetime
    ) -> int | None:
        """Store a delivery to be processed; None when the same bytes were stored already."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "INSERT INTO rdvi_livraison (recue_le, point, empreinte, entetes, corps, etat) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (empreinte) DO NOTHING RETURNING id",
                (
                    now.isoformat(),
                    point,
                    empreinte,
                    self._encode(entetes).decode(),
                    body,
                    A_TRAITER,
                ),
            )
        return int(rows[0][0]) if rows else None

    # --- the processor -----------------------------------------------------------------------

    def pending(self, limit: int) -> list[Livraison]:
        """The oldest deliveries not processed yet, in the order received."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT id, recue_le, point, corps FROM rdvi_livraison "
                "WHERE etat = %s ORDER BY id LIMIT %s",
                (A_TRAITER, limit),
            )
        return [Livraison(id=int(i), recue_le=r, point=p, corps=bytes(c)) for i, r, p, c in rows]

    def resource(self, modele: str, ressource_id: str) -> Ressource | None:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT horodatage, supprime, livraison_id FROM rdvi_ressource "
                "WHERE modele = %s AND ressource_id = %s",
                (modele, ressource_id),
            )
        if not rows:
            return None
        h, s, lid = rows[0]
        return Ressource(
            modele=modele,
            ressource_id=ressource_id,
            horodatage=h,
            supprime=bool(s),
            livraison_id=int(lid),
        )

    def participations(self, rdv_id: str) -> dict[str, SuiviParticipation]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT participation, rdv_id, case_id, usager_id, numero, statut, date_rdv, "
                "version_issue FROM rdvi_participation WHERE rdv_id = %s",
                (rdv_id,),
            )
        return {
            r[0]: SuiviParticipation(
                participation=r[0],
                rdv_id=r[1],
                case_id=r[2],
                usager_id=r[3],
                numero=r[4],
                statut=r[5],
                date_rdv=r[6],
                version_issue=r[7],
            )
            for r in rows
        }

    def cases_of(self, identities: IdentityStore, blinds: Sequence[str]) -> list[UUID]:
        """The cases the identity vault holds for these blind indexes."""
        with self.db.transaction() as tx:
            return list(identities.find(tx, blinds).values())

    def invitation(self, invitation_id: str) -> tuple[str, frozenset[str]] | None:
        """The case an invitation was put on, and the states already recorded there."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT case_id, etats FROM rdvi_invitation WHERE invitation = %s",
                (invitation_id,),
            )
        if not rows:
            return None
        return str(rows[0][0]), frozenset(e for e in str(rows[0][1]).split(",") if e)

    def linked(self, usager_id: str) -> str | None:
        """The case an agent linked this rdv-insertion person to, if any."""
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT case_id FROM rdvi_lien WHERE usager_id = %s", (usager_id,))
        return str(rows[0][0]) if rows else None

    def settle(
        self,
        livraison_id: int,
        etat: str,
        detail: str | None,
        now: datetime,
        ressource: Ressource | None = None,
        suivis: Sequence[SuiviParticipation] = (),
        revoir: Sequence[AReviser] = (),
        invitation: tuple[str, str, frozenset[str]] | None = None,
        resolus: Sequence[str] = (),
    ) -> None:
        """A delivery's outcome, with what it changed, in one transaction: processed again after
        a crash, it finds the same state and replays the same steps (their keys are stored)."""
        with self.db.transaction() as tx:
            if ressource is not None:
                tx.execute(
                    "INSERT INTO rdvi_ressource VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (modele, ressource_id) DO UPDATE SET "
                    "horodatage = excluded.horodatage, supprime = excluded.supprime, "
                    "livraison_id = excluded.livraison_id",
                    (
                        ressource.modele,
                        ressource.ressource_id,
                        ressource.horodatage,
                        int(ressource.supprime),
                        ressource.livraison_id,
                    ),
                )
            for s in suivis:
                tx.execute(
                    "INSERT INTO rdvi_participation VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (participation) DO UPDATE SET case_id = excluded.case_id, "
                    "usager_id = excluded.usager_id, numero = excluded.numero, "
                    "statut = excluded.statut, date_rdv = excluded.date_rdv, "
                    "version_issue = excluded.version_issue",
                    (
                        s.participation,
                        s.rdv_id,
                        s.case_id,
                        s.usager_id,
                        s.numero,
                        s.statut,
                        s.date_rdv,
                        s.version_issue,
                    ),
                )
            for cle in resolus:  # recorded since: the connector closes the item itself
                tx.execute(
                    "UPDATE rdvi_a_revoir SET etat = 'resolu', decide_par = 'rdv-insertion', "
                    "decide_le = %s WHERE cle = %s AND etat = 'ouvert'",
                    (now.isoformat(), cle),
                )
            for item in revoir:
                self._review(tx, item, now)
            if invitation is not None:
                tx.execute(
                    "INSERT INTO rdvi_invitation VALUES (%s, %s, %s) ON CONFLICT (invitation) "
                    "DO UPDATE SET case_id = excluded.case_id, etats = excluded.etats",
                    (invitation[0], invitation[1], ",".join(sorted(invitation[2]))),
                )
            tx.execute(
                "UPDATE rdvi_livraison SET etat = %s, detail = %s, traitee_le = %s WHERE id = %s",
                (etat, detail, now.isoformat(), livraison_id),
            )

    def _review(self, tx: Tx, item: AReviser, now: datetime) -> None:
        """One open item per participant and reason: a later delivery refreshes it."""
        personne = self._encode(item.personne).decode()
        tx.execute(
            "INSERT INTO rdvi_a_revoir (cle, livraison_id, modele, ressource_id, participation, "
            "usager_id, motif, detail, personne, etat, cree_le) VALUES (%s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, 'ouvert', %s) ON CONFLICT (cle) DO UPDATE SET "
            "livraison_id = excluded.livraison_id, "
            "detail = excluded.detail, personne = excluded.personne, etat = 'ouvert', "
            "case_id = NULL, decide_par = NULL, decide_le = NULL, motif_decision = NULL",
            (
                item.cle,
                item.livraison_id,
                item.modele,
                item.ressource_id,
                item.participation,
                item.usager_id,
                item.motif,
                item.detail,
                personne,
                now.isoformat(),
            ),
        )

    def purge(self, older_than: datetime) -> int:
        """Drop processed deliveries received before `older_than` (the retention period);
        deliveries still to process, and those a review item names, are kept."""
        with self.db.transaction() as tx:
            rows = tx.execute(
                "DELETE FROM rdvi_livraison WHERE etat <> %s AND recue_le < %s AND id NOT IN "
                "(SELECT livraison_id FROM rdvi_a_revoir WHERE etat = 'ouvert') RETURNING id",
                (A_TRAITER, older_than.isoformat()),
            )
        return len(rows)

    # --- the review queue --------------------------------------------------------------------

    def review_items(
        self, etat: str | None, limit: int, offset: int
    ) -> tuple[list[ElementARevoir], int]:
        """A page of the queue, oldest first, and how many items it holds in all."""
        where, params = ("WHERE etat = %s", [etat]) if etat else ("", [])
        with self.db.transaction() as tx:
            total = tx.execute(f"SELECT COUNT(*) FROM rdvi_a_revoir {where}", params)[0][0]
            rows = tx.execute(
                f"SELECT {_ITEM} FROM rdvi_a_revoir {where} ORDER BY id LIMIT %s OFFSET %s",
                [*params, limit, offset],
            )
        return [_item(r) for r in rows], int(total)

    def bodies(self, ids: Sequence[int]) -> dict[int, bytes]:
        """The raw deliveries of these ids still kept (the review screen reads the RDV's date)."""
        if not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        with self.db.transaction() as tx:
            rows = tx.execute(
                f"SELECT id, corps FROM rdvi_livraison WHERE id IN ({marks})", list(ids)
            )
        return {int(i): bytes(c) for i, c in rows}

    def review_item(self, item_id: int) -> ElementARevoir | None:
        with self.db.transaction() as tx:
            rows = tx.execute(
                f"SELECT {_ITEM} FROM rdvi_a_revoir WHERE id = %s",
                (item_id,),
            )
        return _item(rows[0]) if rows else None

    def decide(
        self,
        item_id: int,
        etat: str,
        case_id: str | None,
        by: str,
        now: datetime,
        link: tuple[str, str] | None,
        requeue: int | None,
        motif: str | None = None,
    ) -> bool:
        """Close an open item (linked or dismissed); a link is kept for the person's later
        deliveries, and the resource's last delivery is processed again. False when the item
        was not open any more (decided meanwhile)."""
        with self.db.transaction() as tx:
            done = tx.execute(
                "UPDATE rdvi_a_revoir SET etat = %s, case_id = %s, decide_par = %s, "
                "decide_le = %s, motif_decision = %s WHERE id = %s AND etat = 'ouvert' "
                "RETURNING id",
                (etat, case_id, by, now.isoformat(), motif, item_id),
            )
            if not done:
                return False
            if link is not None:
                tx.execute(
                    "INSERT INTO rdvi_lien VALUES (%s, %s) ON CONFLICT (usager_id) DO UPDATE "
                    "SET case_id = excluded.case_id",
                    link,
                )
            if requeue is not None:
                tx.execute(
                    "UPDATE rdvi_livraison SET etat = %s WHERE id = %s",
                    (A_TRAITER, requeue),
                )
        return True

    def counts(self) -> dict[str, int]:
        """Deliveries by state (the status of the inbox)."""
        with self.db.transaction() as tx:
            rows = tx.execute("SELECT etat, COUNT(*) FROM rdvi_livraison GROUP BY etat")
        return {str(e): int(n) for e, n in rows}


_ITEM = (
    "id, livraison_id, modele, ressource_id, participation, usager_id, motif, detail, "
    "personne, etat, case_id, decide_par, decide_le, cree_le, motif_decision"
)


def _item(r: tuple[Any, ...]) -> ElementARevoir:
    return ElementARevoir(
        id=int(r[0]),
        livraison_id=int(r[1]),
        modele=r[2],
        ressource_id=r[3],
        participation=r[4],
        usager_id=r[5],
        motif=r[6],
        detail=r[7],
        personne=msgspec.json.decode(r[8]),
        etat=r[9],
        case_id=r[10],
        decide_par=r[11],
        decide_le=r[12],
        cree_le=r[13],
        motif_decision=r[14],
    )


def retention_floor(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)
