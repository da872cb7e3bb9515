"""A hand-built département of three people for the cohort tests, with every identifying value
written out so that tests can look for them in the extracts' bytes.

- A (`CASE_A`): entry 2024-01-03, oriented, referent, two RDV (one missed), a CER, a sanction, a
  réorientation, an exit keyed by mistake then voided, the real exit, closure; re-entry in 2025.
- B (`CASE_B`): entry 2024-02-10, never oriented.
- C (`CASE_C`): entry 2023-06-01, outside the 2024 cohort.
"""

from datetime import UTC, date, datetime
from uuid import UUID

from domain import events as ev
from domain.vocabulary import (
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    OrganismePayeur,
    Sexe,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)

CASE_A = UUID("3f1e2d4c-5b6a-4789-8abc-def012345678")
CASE_B = UUID("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")
CASE_C = UUID("55555555-6666-4777-8888-999999999999")

IDENTIFYING: tuple[str, ...] = (
    "CAF-7654321",
    "MSA-0011223",
    "CAF-9998887",
    "agent-dupont",
    "req-secret-",
    "ref-durand",
    "M. Martin",
    "Mme Dupont",
    "saisie erron",
    "déménagée chez sa sœur",
)
"""Values that must never leave in an extract: file numbers, agents, request ids, referents,
free-text motives."""

D = date


def meta(day: date, structure: str | None = None) -> ev.Meta:
    return ev.Meta(
        recorded_at=datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC),
        recorded_by="agent-dupont",
        structure_id=structure,
        request_id=f"req-secret-{day.isoformat()}",
    )


def _entree(day: date, numero: str, profil: ev.Profil) -> ev.EntreeEnregistree:
    return ev.EntreeEnregistree(
        effective_on=day,
        meta=meta(day),
        numero_dossier=numero,
        organisme_payeur=OrganismePayeur.CAF,
        date_flux=D(day.year, day.month, day.day + 1),
        date_reception_flux=D(day.year, day.month, day.day + 5),
        soumis_droits_devoirs=True,
        profil=profil,
    )


CCAS = "ccas-creteil"
FT = "ft-creteil"

PATH_A: list[ev.Evenement] = [
    _entree(
        D(2024, 1, 3),
        "CAF-7654321",
        ev.Profil(sexe=Sexe.F, annee_naissance=1990, code_commune="94028"),
    ),
    ev.OrientationDecidee(
        effective_on=D(2024, 1, 25),
        meta=meta(D(2024, 1, 25), CCAS),
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.CCAS,
        structure_id=CCAS,
        mode=ModeOrientation.DECIDEE,
    ),
    ev.ReferentDesigne(
        effective_on=D(2024, 1, 29), meta=meta(D(2024, 1, 29), CCAS), referent_id="ref-durand"
    ),
    ev.RdvPlanifie(
        effective_on=D(2024, 1, 29),
        meta=meta(D(2024, 1, 29), CCAS),
        numero=1,
        type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
        mode=ModeRdv.CONVOCATION,
        date_rdv=D(2024, 2, 5),
    ),
    ev.IssueRdvEnregistree(
        effective_on=D(2024, 2, 5), meta=meta(D(2024, 2, 5), CCAS), numero=1, issue=IssueRdv.NOSHOW
    ),
    ev.RdvPlanifie(
        effective_on=D(2024, 2, 6),
        meta=meta(D(2024, 2, 6), CCAS),
        numero=2,
        type_rdv=TypeRdv.SUIVI,
        mode=ModeRdv.INVITATION,
        date_rdv=D(2024, 2, 12),
    ),
    ev.IssueRdvEnregistree(
        effective_on=D(2024, 2, 12), meta=meta(D(2024, 2, 12), CCAS), numero=2, issue=IssueRdv.SEEN
    ),
    ev.CerSigne(
        effective_on=D(2024, 2, 20),
        meta=meta(D(2024, 2, 20), CCAS),
        numero=1,
        date_debut=D(2024, 3, 1),
        duree_mois=6,
        renouvellement=False,
    ),
    ev.SanctionDecidee(
        effective_on=D(2024, 4, 10),
        meta=meta(D(2024, 4, 10), CCAS),
        numero=1,
        type_sanction=TypeSanction.REDUCTION,
        motif="absente au RDV avec M. Martin",
    ),
    ev.ReorientationDecidee(
        effective_on=D(2024, 5, 2),
        meta=meta(D(2024, 5, 2), CCAS),
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id=FT,
        motif="Mme Dupont cherche un emploi",
    ),
    ev.SortieEnregistree(
        effective_on=D(2024, 6, 30),
        meta=meta(D(2024, 6, 30), FT),
        type_sortie=TypeSortie.EMPLOI_CDI,
    ),
    ev.EtapeAnnulee(
        effective_on=D(2024, 7, 2),
        meta=meta(D(2024, 7, 2), FT),
        version_annulee=11,
        motif="saisie erronée",
    ),
    ev.SortieEnregistree(
        effective_on=D(2024, 7, 15),
        meta=meta(D(2024, 7, 15), FT),
        type_sortie=TypeSortie.EMPLOI_CDD_PLUS_6_MOIS,
    ),
    ev.DroitClos(
        effective_on=D(2024, 8, 1),
        meta=meta(D(2024, 8, 1)),
        motif=MotifCloture.RESSOURCES_SUPERIEURES,
    ),
    ev.DroitRouvert(
        effective_on=D(2025, 3, 3),
        meta=meta(D(2025, 3, 3)),
        date_flux=D(2025, 3, 4),
        date_reception_flux=D(2025, 3, 6),
        soumis_droits_devoirs=True,
    ),
    ev.OrientationDecidee(
        effective_on=D(2025, 3, 20),
        meta=meta(D(2025, 3, 20)),
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id=FT,
        mode=ModeOrientation.AUTOMATIQUE,
    ),
]

PATH_B: list[ev.Evenement] = [
    _entree(
        D(2024, 2, 10),
        "MSA-0011223",
        ev.Profil(sexe=Sexe.M, annee_naissance=1958, code_commune="94002"),
    ),
    ev.DroitSuspendu(
        effective_on=D(2024, 3, 1), meta=meta(D(2024, 3, 1)), motif="déménagée chez sa sœur"
    ),
]

PATH_C: list[ev.Evenement] = [
    _entree(
        D(2023, 6, 1),
        "CAF-9998887",
        ev.Profil(sexe=Sexe.F, annee_naissance=2001, code_commune="94028"),
    ),
]


def recorded(case_id: UUID, path: list[ev.Evenement]) -> list[ev.Recorded]:
    return [ev.Recorded(case_id, version, e) for version, e in enumerate(path, 1)]


HISTORY_A = recorded(CASE_A, PATH_A)
HISTORY_B = recorded(CASE_B, PATH_B)
HISTORY_C = recorded(CASE_C, PATH_C)
ALL = [*HISTORY_A, *HISTORY_B, *HISTORY_C]
