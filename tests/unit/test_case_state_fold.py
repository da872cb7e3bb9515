"""The case-state fold is pure: written-out rows for a hand-made history, and folding in chunks
through the stored encoding gives the same rows as one pass."""

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from domain import events as ev
from domain.dossier import Statut
from domain.vocabulary import (
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSortie,
)
from projections.case_state import CaseRow, evolve, fold

CASE = UUID(int=7)


def meta(day: int) -> ev.Meta:
    return ev.Meta(
        recorded_at=datetime(2024, 1, 1, tzinfo=UTC).replace(day=day),
        recorded_by="a",
        request_id="r",
    )


D = date
HISTORY: list[ev.Evenement] = [
    ev.EntreeEnregistree(
        effective_on=D(2024, 1, 3),
        meta=meta(1),
        numero_dossier="CAF-1",
        organisme_payeur=OrganismePayeur.CAF,
        date_flux=D(2024, 1, 4),
        date_reception_flux=D(2024, 1, 8),
        soumis_droits_devoirs=True,
    ),
    ev.OrientationDecidee(
        effective_on=D(2024, 1, 25),
        meta=meta(2),
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.CCAS,
        structure_id="ccas-1",
        mode=ModeOrientation.DECIDEE,
    ),
    ev.RdvPlanifie(
        effective_on=D(2024, 1, 26),
        meta=meta(3),
        numero=1,
        type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
        mode=ModeRdv.CONVOCATION,
        date_rdv=D(2024, 2, 5),
    ),
    ev.RdvPlanifie(
        effective_on=D(2024, 1, 26),
        meta=meta(4),
        numero=2,
        type_rdv=TypeRdv.SUIVI,
        mode=ModeRdv.CONVOCATION,
        date_rdv=D(2024, 3, 5),
    ),
    ev.IssueRdvEnregistree(
        effective_on=D(2024, 2, 5), meta=meta(5), numero=1, issue=IssueRdv.NOSHOW
    ),
    ev.CerSigne(
        effective_on=D(2024, 1, 30),
        meta=meta(6),
        numero=1,
        date_debut=D(2024, 1, 31),
        duree_mois=6,
        renouvellement=False,
    ),
    ev.ReorientationDecidee(
        effective_on=D(2024, 4, 1),
        meta=meta(7),
        type_orientation=TypeOrientation.SOCIO_PROFESSIONNELLE,
        organisme=TypeOrganisme.AAVE,
        structure_id="aave-1",
        motif="x",
    ),
    ev.SortieEnregistree(
        effective_on=D(2024, 5, 1), meta=meta(8), type_sortie=TypeSortie.DEMENAGEMENT
    ),
]
RECORDS = [ev.Recorded(CASE, n, e) for n, e in enumerate(HISTORY, 1)]


def test_rows_written_out_by_hand() -> None:
    row = fold(RECORDS)[CASE]
    assert row.version == 8
    assert row.updated_at == datetime(2024, 1, 8, tzinfo=UTC)
    assert row.statut is Statut.SORTI
    assert (row.date_entree, row.date_flux, row.date_reception_flux) == (
        D(2024, 1, 3),
        D(2024, 1, 4),
        D(2024, 1, 8),
    )
    assert row.date_premiere_orientation == D(2024, 1, 25)
    assert row.date_orientation == D(2024, 4, 1)
    assert (row.structure_id, row.organisme, row.nb_reorientations) == ("aave-1", "aave", 1)
    assert (row.date_premier_rdv, row.date_dernier_rdv) == (D(2024, 2, 5), D(2024, 3, 5))
    assert (row.rdv_noshow, row.rdv_seen, row.rdv_en_attente) == (1, 0, 1)
    assert row.date_premier_cer == D(2024, 1, 30)
    assert row.date_fin_cer == D(2024, 7, 30)  # 31 January + 6 months, clamped, minus a day
    assert (row.type_sortie, row.sortie_positive) == (TypeSortie.DEMENAGEMENT, False)


def test_reopening_starts_a_fresh_episode() -> None:
    closed = ev.DroitClos(effective_on=D(2024, 5, 2), meta=meta(9), motif=MotifCloture.AUTRE)
    reopened = ev.DroitRouvert(
        effective_on=D(2024, 9, 1),
        meta=meta(10),
        date_flux=D(2024, 9, 2),
        date_reception_flux=D(2024, 9, 3),
        soumis_droits_devoirs=True,
    )
    row = fold([*RECORDS, ev.Recorded(CASE, 9, closed), ev.Recorded(CASE, 10, reopened)])[CASE]
    assert (row.episode, row.statut, row.numero_dossier) == (2, Statut.A_ORIENTER, "CAF-1")
    assert row.date_entree == D(2024, 9, 1)
    assert row.structure_id is None
    assert row.rdv_noshow == 0
    assert row.date_sortie is None


def test_folding_in_stored_chunks_equals_one_pass() -> None:
    encode, decode = msgspec.json.encode, msgspec.json.Decoder(CaseRow).decode
    stored: CaseRow | None = None
    for record in RECORDS:
        row = evolve(stored, record)
        stored = decode(encode(row))
    assert stored == fold(RECORDS)[CASE]
