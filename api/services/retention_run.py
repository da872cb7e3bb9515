"""The scheduled retention job (`parcours retention run`, docs/ops/retention.md): erase the
identities whose retention period is over, purge the access log past its year and the
rdv-insertion inbox past its period. Idempotent: a second run the same day finds nothing.

Who is due comes from the case-state read model (`projections.retention`), each candidate
confirmed on its own history in the log before anything is erased: a read model behind the
log (a re-opening not folded yet) never causes an erasure. Each erasure is one transaction of
the vault's (`IdentityStore.erase`), recorded first in the access log as the API's erasure
is (`DELETE /personnes/{id}/identite`), and in the JSON logs.
"""

from datetime import date, datetime, timedelta
from uuid import UUID

import msgspec
import structlog

from adapters.access_log import Acces, AccessFilter, AccessLog
from adapters.eventlog.store import Parcours
from adapters.identity import IdentityStore
from adapters.readmodels.case_store import CaseFilter, CaseStateView
from adapters.readmodels.models import open_case_view
from api.services.audit import purge_accesses
from api.services.retention import ACCESS_RETENTION_DAYS
from domain.dossier import Statut
from projections.case_state import CaseRow, case_row
from projections.retention import Echeance, ended_without_date, past_retention

log = structlog.get_logger("retention")

AGENT = "parcours-retention"
"""Who the access log names for the job's erasures."""
PURPOSE = "effacement de l'identité (fin de la durée de conservation)"
PAGE = 5000


class Effacement(msgspec.Struct, frozen=True, kw_only=True):
    case_id: UUID
    fin_parcours: date
    effacable_le: date


class Rapport(msgspec.Struct, kw_only=True):
    """What a run did (or, `a_blanc`, would do)."""

    jour: date
    jours_conservation: int
    a_blanc: bool
    identites: list[Effacement]
    """Identities erased (or to erase): their path ended `jours_conservation` days ago or more."""
    ecartes: list[UUID]
    """Due according to the read model, but not according to the case's history in the log
    (a re-opening not folded yet, a case in quarantine): left for a later run."""
    sans_date: list[UUID]
    """Ended cases whose read-model row has no end date: `parcours rebuild` gives them one."""
    acces_avant: datetime
    acces_purges: int
    """Accesses older than `acces_avant` deleted (or, à blanc, to delete)."""
    livraisons_rdvi_purgees: int | None
    """rdv-insertion deliveries past their period deleted (None à blanc: not counted)."""


def _ended_rows(view: CaseStateView) -> list[CaseRow]:
    rows: list[CaseRow] = []
    for statut in (Statut.SORTI, Statut.CLOS):
        offset = 0
        while True:
            page, _ = view.find(CaseFilter(statut=statut.value), PAGE, offset)
            rows += page
            offset += PAGE
            if len(page) < PAGE:
                break
    return rows


def _confirmed(app: Parcours, due: Echeance, days: int, today: date) -> bool:
    """Whether the case's own history says the same as its row (the log is the truth)."""
    try:
        row = case_row(app.history(due.case_id))
    except Exception:  # a history no fold reads (quarantine): not this run's to decide
        return False
    return row is not None and bool(past_retention([row], today, days))


def run(
    app: Parcours,
    *,
    a_blanc: bool = False,
    days: int | None = None,
    identities: IdentityStore | None = None,
) -> Rapport:
    """One retention run on the application's today."""
    days = app.settings.identity_retention_days if days is None else days
    today = app.today()
    vault = identities or IdentityStore(app.settings)
    rows = _ended_rows(open_case_view(app))
    due = past_retention(rows, today, days)
    held = vault.held([d.case_id for d in due])
    erased: list[Effacement] = []
    set_aside: list[UUID] = []
    access_log = AccessLog.of(app)
    for d in due:
        if d.case_id not in held:
            continue  # erased already (by an earlier run or on request)
        if not _confirmed(app, d, days, today):
            set_aside.append(d.case_id)
            continue
        if not a_blanc:
            motif = f"fin du parcours le {d.fin_parcours.isoformat()}, conservation {days} jours"
            access_log.record(
                Acces(
                    at=app.clock(),
                    agent=AGENT,
                    roles=["exploitation"],
                    structures=[],
                    case_id=d.case_id,
                    method="CLI",
                    path="parcours retention run",
                    purpose=PURPOSE,
                    motif=motif,
                    outcome="granted",
                )
            )
            vault.erase(d.case_id)
            log.info(
                "retention.identite_effacee",
                case_id=str(d.case_id),
                fin_parcours=d.fin_parcours.isoformat(),
                jours_conservation=days,
            )
        erased.append(
            Effacement(case_id=d.case_id, fin_parcours=d.fin_parcours, effacable_le=d.effacable_le)
        )
    if a_blanc:
        before = app.clock() - timedelta(days=ACCESS_RETENTION_DAYS)
        _, accesses = access_log.find(AccessFilter(end=before), limit=0)
        deliveries: int | None = None
    else:
        before, accesses = purge_accesses(app)
        from api.services.connectors_rdvi import RdviConnector

        deliveries = RdviConnector(app).purge()
    report = Rapport(
        jour=today,
        jours_conservation=days,
        a_blanc=a_blanc,
        identites=erased,
        ecartes=set_aside,
        sans_date=ended_without_date(rows),
        acces_avant=before,
        acces_purges=accesses,
        livraisons_rdvi_purgees=deliveries,
    )
    log.info(
        "retention.fin",
        a_blanc=a_blanc,
        identites=len(erased),
        ecartes=len(set_aside),
        sans_date=len(report.sans_date),
        acces_purges=accesses,
        livraisons_rdvi_purgees=deliveries,
    )
    return report
