"""`evolve` folds a case's events into the state the rules read: written-out states for
hand-made histories, the calendar of contracts, and a fold that never fails."""

from datetime import UTC, date, datetime

import pytest

from domain import events as ev
from domain.dates import add_months, fin_contrat
from domain.dossier import Cer, Dossier, Orientation, Rdv, Statut, evolve, fold
from domain.vocabulary import (
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)

D = date
META = ev.Meta(recorded_at=datetime(2024, 6, 1, tzinfo=UTC), recorded_by="a", request_id="r")

ENTREE = ev.EntreeEnregistree(
    effective_on=D(2024, 1, 3),
    meta=META,
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.MSA,
    date_flux=D(2024, 1, 4),
    date_reception_flux=D(2024, 1, 8),
    soumis_droits_devoirs=True,
)
ORIENTATION = ev.OrientationDecidee(
    effective_on=D(2024, 1, 25),
    meta=META,
    type_orientation=TypeOrientation.SOCIALE,
    organisme=TypeOrganisme.DEPARTEMENT,
    structure_id="mds-1",
    mode=ModeOrientation.AUTOMATIQUE,
)
REFERENT = ev.ReferentDesigne(effective_on=D(2024, 1, 29), meta=META, referent_id="ref-1")
RDV_1 = ev.RdvPlanifie(
    effective_on=D(2024, 1, 29),
    meta=META,
    numero=1,
    type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
    mode=ModeRdv.CONVOCATION,
    date_rdv=D(2024, 2, 5),
)
RDV_2 = ev.RdvPlanifie(
    effective_on=D(2024, 2, 6),
    meta=META,
    numero=2,
    type_rdv=TypeRdv.SUIVI,
    mode=ModeRdv.INVITATION,
    date_rdv=D(2024, 3, 4),
)
NOSHOW_1 = ev.IssueRdvEnregistree(
    effective_on=D(2024, 2, 5), meta=META, numero=1, issue=IssueRdv.NOSHOW
)
CER_1 = ev.CerSigne(
    effective_on=D(2024, 1, 30),
    meta=META,
    numero=1,
    date_debut=D(2024, 1, 31),
    duree_mois=6,
    renouvellement=False,
)
CER_2 = ev.CerSigne(
    effective_on=D(2024, 7, 15),
    meta=META,
    numero=2,
    date_debut=D(2024, 7, 31),
    duree_mois=12,
    renouvellement=True,
)
SANCTION_1 = ev.SanctionDecidee(
    effective_on=D(2024, 3, 1),
    meta=META,
    numero=1,
    type_sanction=TypeSanction.SUSPENSION,
    motif="RDV manqué",
)
SANCTION_2 = ev.SanctionDecidee(
    effective_on=D(2024, 4, 1),
    meta=META,
    numero=2,
    type_sanction=TypeSanction.REDUCTION,
    motif="pas de contrat",
)
LEVEE_1 = ev.SanctionLevee(effective_on=D(2024, 4, 15), meta=META, numero=1)
SORTIE = ev.SortieEnregistree(
    effective_on=D(2024, 9, 2), meta=META, type_sortie=TypeSortie.FORMATION_QUALIFIANTE
)
CLOTURE = ev.DroitClos(effective_on=D(2024, 9, 30), meta=META, motif=MotifCloture.AUTRE)
REOUVERTURE = ev.DroitRouvert(
    effective_on=D(2024, 11, 4),
    meta=META,
    date_flux=D(2024, 11, 5),
    date_reception_flux=D(2024, 11, 6),
    soumis_droits_devoirs=False,
)

ORIENTEE = Orientation(
    type_orientation=TypeOrientation.SOCIALE,
    organisme=TypeOrganisme.DEPARTEMENT,
    structure_id="mds-1",
    date_orientation=D(2024, 1, 25),
)


def test_an_unknown_case_is_the_empty_state() -> None:
    assert fold([]) == Dossier(statut=Statut.INCONNU, episode=0)
    assert not Dossier().existe


def test_an_entry_opens_episode_1_to_be_oriented() -> None:
    assert fold([ENTREE]) == Dossier(
        statut=Statut.A_ORIENTER,
        numero_dossier="CAF-1",
        episode=1,
        date_entree=D(2024, 1, 3),
        soumis_droits_devoirs=True,
    )


def test_an_accompanied_case_written_out() -> None:
    history = [
        ENTREE,
        ORIENTATION,
        REFERENT,
        RDV_1,
        CER_1,
        NOSHOW_1,
        RDV_2,
        SANCTION_1,
        SANCTION_2,
        LEVEE_1,
        CER_2,
    ]
    assert fold(history) == Dossier(
        statut=Statut.ORIENTE,
        numero_dossier="CAF-1",
        episode=1,
        date_entree=D(2024, 1, 3),
        soumis_droits_devoirs=True,
        orientation=ORIENTEE,
        referent_id="ref-1",
        rdvs={
            1: Rdv(
                type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
                date_rdv=D(2024, 2, 5),
                planifie_le=D(2024, 1, 29),
                episode=1,
                issue=IssueRdv.NOSHOW,
            ),
            2: Rdv(
                type_rdv=TypeRdv.SUIVI,
                date_rdv=D(2024, 3, 4),
                planifie_le=D(2024, 2, 6),
                episode=1,
            ),
        },
        cer=Cer(numero=2, date_debut=D(2024, 7, 31), date_fin=D(2025, 7, 30)),
        nb_cer=2,
        sanctions_en_cours=frozenset({2}),
        nb_sanctions=2,
    )


def test_a_reorientation_moves_the_case_and_ends_the_referent() -> None:
    reorientation = ev.ReorientationDecidee(
        effective_on=D(2024, 5, 2),
        meta=META,
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id="ft-1",
        motif="projet",
        date_avis_ep=D(2024, 4, 30),
    )
    state = fold([ENTREE, ORIENTATION, REFERENT, reorientation])
    assert state.orientation == Orientation(
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id="ft-1",
        date_orientation=D(2024, 5, 2),
    )
    assert (state.statut, state.referent_id) == (Statut.ORIENTE, None)


def test_suspension_and_resumption_of_the_right() -> None:
    suspension = ev.DroitSuspendu(effective_on=D(2024, 2, 1), meta=META, motif="DTR")
    reprise = ev.DroitRepris(effective_on=D(2024, 3, 1), meta=META)
    assert fold([ENTREE, suspension]).droit_suspendu
    assert not fold([ENTREE, suspension, reprise]).droit_suspendu


def test_an_exit_ends_the_episode_and_keeps_the_sanctions_a_closure_ends_them() -> None:
    exited = fold([ENTREE, ORIENTATION, SANCTION_1, SORTIE])
    assert (exited.statut, exited.episode_ouvert) == (Statut.SORTI, False)
    assert exited.sanctions_en_cours == frozenset({1})
    closed = fold([CLOTURE], exited)
    assert (closed.statut, closed.episode_ouvert) == (Statut.CLOS, False)
    assert closed.sanctions_en_cours == frozenset()


def test_a_reopening_starts_episode_2_and_keeps_the_case_numbering() -> None:
    history = [ENTREE, ORIENTATION, REFERENT, RDV_1, CER_1, SANCTION_1, SORTIE, CLOTURE]
    state = fold([*history, REOUVERTURE])
    assert state == Dossier(
        statut=Statut.A_ORIENTER,
        numero_dossier="CAF-1",
        episode=2,
        date_entree=D(2024, 11, 4),
        soumis_droits_devoirs=False,
        rdvs={
            1: Rdv(
                type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
                date_rdv=D(2024, 2, 5),
                planifie_le=D(2024, 1, 29),
                episode=1,
            )
        },
        nb_cer=1,
        nb_sanctions=1,
    )


def test_an_outcome_for_a_rdv_the_history_lacks_changes_nothing() -> None:
    state = fold([ENTREE, ORIENTATION])
    assert evolve(state, NOSHOW_1) == state


def test_folding_from_a_state_continues_the_history() -> None:
    history = [ENTREE, ORIENTATION, REFERENT, RDV_1, NOSHOW_1, CER_1, SORTIE, CLOTURE, REOUVERTURE]
    for cut in range(len(history) + 1):
        assert fold(history[cut:], fold(history[:cut])) == fold(history)


@pytest.mark.parametrize(
    ("debut", "mois", "fin"),
    [
        (D(2024, 1, 31), 6, D(2024, 7, 30)),
        (D(2024, 3, 1), 6, D(2024, 8, 31)),
        (D(2024, 3, 1), 12, D(2025, 2, 28)),
        (D(2024, 7, 31), 12, D(2025, 7, 30)),
        (D(2024, 5, 15), 9, D(2025, 2, 14)),
        (D(2023, 8, 31), 6, D(2024, 2, 28)),
    ],
)
def test_a_contract_ends_the_day_before_the_same_day_months_later(
    debut: date, mois: int, fin: date
) -> None:
    assert fin_contrat(debut, mois) == fin


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2024, 12, 15), 1, D(2025, 1, 15)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_month_end(
    start: date, months: int, end: date
) -> None:
    assert add_months(start, months) == end
