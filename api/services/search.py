"""Finding a person: by name (accents and case ignored, a prefix of 3 letters is enough), by
CAF/MSA file number (with or without the organisme) or by NIR.

The query is folded into terms (`adapters.identity_search`), the identity vault gives the cases
whose person has every term (its index holds keyed hashes only), then only the cases the caller
may read are kept (as a case is read: an agent sees the cases one of its structures accompanies
today, as référent by the orientation or by an accompaniment; the other readers see all), and
only those identities are decrypted. The query is personal data: it is never logged, only the
count of what was found."""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

import msgspec
import structlog

from adapters.eventlog.reading import case_histories
from adapters.eventlog.store import Parcours
from adapters.identity import Identite, IdentityStore
from adapters.identity_search import QueryTooShort, fold, query_terms
from adapters.readmodels.case_store import CaseStateView
from domain.dossier import Statut, fold_history
from domain.vocabulary import TypeOrientation
from projections.case_state import CaseRow

__all__ = ["MAX_CANDIDATES", "Personne", "QueryTooShort", "Resultat", "rechercher"]

log = structlog.get_logger("search")

MAX_CANDIDATES = 200
"""Cases matched at most before the caller's reach is checked: a query finding more asks to be
made more precise (`tronque`)."""


class Personne(msgspec.Struct, frozen=True, kw_only=True):
    """One person found, as a list shows them to an agent who may read their case."""

    case_id: UUID
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: list[str] = []
    date_naissance: date | None = None
    organisme: str
    matricule: str
    commune: str | None = None
    numero_dossier: str | None = None
    statut: Statut | None = None
    """None while the read model has not yet seen the case."""
    type_orientation: TypeOrientation | None = None
    structure_id: str | None = None
    referent_id: str | None = None


class Resultat(msgspec.Struct, frozen=True, kw_only=True):
    personnes: list[Personne]
    tronque: bool
    """More than `MAX_CANDIDATES` persons matched: some may be missing, the query should say
    more."""


def _visible(app: Parcours, case_ids: Sequence[UUID], structures: frozenset[str]) -> set[UUID]:
    """The cases one of these structures accompanies today (a case whose history does not fold
    is no agent's, as when it is read)."""
    out = set()
    for case_id, history in case_histories(app, case_ids).items():
        try:
            accompagnants = fold_history(history).accompagnants
        except Exception:  # a case in quarantine: no agent's, as when it is read
            accompagnants = {}
        if not structures.isdisjoint(accompagnants):
            out.add(case_id)
    return out


def _personne(case_id: UUID, i: Identite, row: CaseRow | None) -> Personne:
    return Personne(
        case_id=case_id,
        nom=i.nom,
        nom_naissance=i.nom_naissance,
        prenoms=list(i.prenoms),
        date_naissance=i.date_naissance,
        organisme=i.organisme,
        matricule=i.matricule,
        commune=i.commune,
        numero_dossier=row.numero_dossier if row else None,
        statut=row.statut if row else None,
        type_orientation=row.type_orientation if row else None,
        structure_id=row.structure_id if row else None,
        referent_id=row.referent_id if row else None,
    )


def rechercher(
    app: Parcours,
    vault: IdentityStore,
    view: CaseStateView,
    query: str,
    structures: frozenset[str] | None,
) -> Resultat:
    """The persons matching every term of `query` that the caller may read (`structures`: an
    agent's, None for a reader of every case), by name. QueryTooShort under 3 characters."""
    alternatives = query_terms(query)
    found = list(
        dict.fromkeys(c for terms in alternatives for c in vault.search(terms, MAX_CANDIDATES + 1))
    )
    tronque = len(found) > MAX_CANDIDATES
    found = found[:MAX_CANDIDATES]
    if structures is not None:
        seen = _visible(app, found, structures)
        found = [c for c in found if c in seen]
    identities = vault.read_many(found)
    rows = view.cases(identities)
    people = sorted(
        (_personne(c, identities[c], rows.get(c)) for c in found if c in identities),
        key=lambda p: (fold(p.nom or ""), [fold(n) for n in p.prenoms], str(p.case_id)),
    )
    log.info("search.done", found=len(people), truncated=tronque)
    return Resultat(personnes=people, tronque=tronque)
