"""The path's rules, as agents meet them: given a case's history, when an agent keys a step,
then the events recorded, or the refusal naming the rule (`code`) and the field at fault.

Pure: no store, no clock; today is 31 December 2024 unless a test says otherwise.
"""

from datetime import UTC, date, datetime

import msgspec
import pytest

from domain import commands as c
from domain import events as ev
from domain.decide import Contexte, decide
from domain.dossier import Cer, Dossier, Orientation, Statut, fold
from domain.errors import DomainError
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
from tests.ep_steps import procedure, reduction

TODAY = date(2024, 12, 31)
META = ev.Meta(
    recorded_at=datetime(2024, 12, 31, 9, 15, tzinfo=UTC),
    recorded_by="agent-7",
    structure_id="ccas-1",
    request_id="req-1",
)
D = date

# --- a case's usual steps ---------------------------------------------------------------------

ENTREE = c.EnregistrerEntree(
    effective_on=D(2024, 1, 3),
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=D(2024, 1, 4),
    date_reception_flux=D(2024, 1, 8),
)
SOCIALE = c.DeciderOrientation(
    effective_on=D(2024, 1, 25),
    type_orientation=TypeOrientation.SOCIALE,
    organisme=TypeOrganisme.CCAS,
    structure_id="ccas-1",
)
PRO = c.DeciderOrientation(
    effective_on=D(2024, 1, 25),
    type_orientation=TypeOrientation.PROFESSIONNELLE,
    organisme=TypeOrganisme.FRANCE_TRAVAIL,
    structure_id="ft-1",
    mode=ModeOrientation.AUTOMATIQUE,
)
REFERENT = c.DesignerReferent(effective_on=D(2024, 1, 29), referent_id="ref-1")
RDV = c.PlanifierRdv(
    effective_on=D(2024, 1, 29),
    type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
    mode=ModeRdv.CONVOCATION,
    date_rdv=D(2024, 2, 5),
)
SEEN = c.EnregistrerIssueRdv(effective_on=D(2024, 2, 5), numero=1, issue=IssueRdv.SEEN)
CER = c.SignerCer(effective_on=D(2024, 2, 20), date_debut=D(2024, 3, 1), duree_mois=6)
RENOUVELLEMENT = c.RenouvelerCer(
    effective_on=D(2024, 8, 20), date_debut=D(2024, 9, 1), duree_mois=12
)


PROCEDURE = procedure(1, D(2024, 3, 4))
SANCTION = reduction(1, D(2024, 4, 2))
LEVEE = c.LeverSanction(effective_on=D(2024, 5, 2), numero=1, motif="reprise de contact")
SORTIE = c.EnregistrerSortie(effective_on=D(2024, 10, 1), type_sortie=TypeSortie.EMPLOI_CDI)
CLOTURE = c.CloreDroit(effective_on=D(2024, 10, 31), motif=MotifCloture.RESSOURCES_SUPERIEURES)
REOUVERTURE = c.RouvrirDroit(
    effective_on=D(2024, 12, 2), date_flux=D(2024, 12, 3), date_reception_flux=D(2024, 12, 5)
)


def given(*commands: c.Commande, state: Dossier | None = None) -> Dossier:
    """The case after the agent recorded `commands` (each must be accepted)."""
    state = state or Dossier()
    for command in commands:
        state = fold(when(state, command), state)
    return state


def when(state: Dossier, command: c.Commande, today: date = TODAY) -> list[ev.Evenement]:
    return decide(state, command, Contexte(today=today, meta=META))


def refused(
    state: Dossier, command: c.Commande, code: str, field: str | None, today: date = TODAY
) -> None:
    with pytest.raises(DomainError) as refusal:
        when(state, command, today)
    assert (refusal.value.code, refusal.value.field) == (code, field)


def on(command: c.Commande, **changes: object) -> c.Commande:
    """`command` with some fields changed (typically its dates)."""
    return msgspec.structs.replace(command, **changes)


# --- the whole path ---------------------------------------------------------------------------


def test_a_full_path_records_one_event_per_step_and_a_reopening_starts_episode_2() -> None:
    asc = c.TenirEntretienAsc(effective_on=D(2024, 6, 3), structure_id="asso-1")
    path: list[tuple[c.Commande, ev.Evenement | None]] = [
        (
            ENTREE,
            ev.EntreeEnregistree(
                effective_on=D(2024, 1, 3),
                meta=META,
                numero_dossier="CAF-1",
                organisme_payeur=OrganismePayeur.CAF,
                date_flux=D(2024, 1, 4),
                date_reception_flux=D(2024, 1, 8),
                soumis_droits_devoirs=True,
            ),
        ),
        (
            PRO,
            ev.OrientationDecidee(
                effective_on=D(2024, 1, 25),
                meta=META,
                type_orientation=TypeOrientation.PROFESSIONNELLE,
                organisme=TypeOrganisme.FRANCE_TRAVAIL,
                structure_id="ft-1",
                mode=ModeOrientation.AUTOMATIQUE,
            ),
        ),
        (REFERENT, ev.ReferentDesigne(effective_on=D(2024, 1, 29), meta=META, referent_id="ref-1")),
        (
            RDV,
            ev.RdvPlanifie(
                effective_on=D(2024, 1, 29),
                meta=META,
                numero=1,
                type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
                mode=ModeRdv.CONVOCATION,
                date_rdv=D(2024, 2, 5),
            ),
        ),
        (
            SEEN,
            ev.IssueRdvEnregistree(
                effective_on=D(2024, 2, 5), meta=META, numero=1, issue=IssueRdv.SEEN
            ),
        ),
        (
            CER,
            ev.CerSigne(
                effective_on=D(2024, 2, 20),
                meta=META,
                numero=1,
                date_debut=D(2024, 3, 1),
                duree_mois=6,
                renouvellement=False,
            ),
        ),
        *((step, None) for step in PROCEDURE),
        (
            SANCTION,
            ev.SanctionDecidee(
                effective_on=D(2024, 4, 2),
                meta=META,
                numero=1,
                type_sanction=TypeSanction.REDUCTION,
                motif="RDV manqués",
                saisine=1,
                regime="sanctions-2018",
                rang=1,
                pourcentage=50,
                duree_mois=2,
                date_debut=D(2024, 4, 2),
                montant_mensuel_centimes=60000,
                personnes_foyer=1,
                avis_suivi=True,
            ),
        ),
        (
            LEVEE,
            ev.SanctionLevee(
                effective_on=D(2024, 5, 2), meta=META, numero=1, motif="reprise de contact"
            ),
        ),
        (asc, ev.EntretienAscTenu(effective_on=D(2024, 6, 3), meta=META, structure_id="asso-1")),
        (
            RENOUVELLEMENT,
            ev.CerSigne(
                effective_on=D(2024, 8, 20),
                meta=META,
                numero=2,
                date_debut=D(2024, 9, 1),
                duree_mois=12,
                renouvellement=True,
            ),
        ),
        (
            SORTIE,
            ev.SortieEnregistree(
                effective_on=D(2024, 10, 1), meta=META, type_sortie=TypeSortie.EMPLOI_CDI
            ),
        ),
        (
            CLOTURE,
            ev.DroitClos(
                effective_on=D(2024, 10, 31),
                meta=META,
                motif=MotifCloture.RESSOURCES_SUPERIEURES,
            ),
        ),
        (
            REOUVERTURE,
            ev.DroitRouvert(
                effective_on=D(2024, 12, 2),
                meta=META,
                date_flux=D(2024, 12, 3),
                date_reception_flux=D(2024, 12, 5),
                soumis_droits_devoirs=True,
            ),
        ),
    ]
    state = Dossier()
    statuts = []
    for command, expected in path:
        recorded = when(state, command)
        if expected is None:  # a step of the EP procedure, checked in test_ep_procedure
            [one] = recorded
            assert isinstance(one, command.route.records)
        else:
            assert recorded == [expected]
        state = fold(recorded, state)
        statuts.append(state.statut)

    assert statuts == [
        Statut.A_ORIENTER,
        *[Statut.ORIENTE] * 14,
        Statut.SORTI,
        Statut.CLOS,
        Statut.A_ORIENTER,
    ]
    assert state.episode == 2
    assert state.date_entree == D(2024, 12, 2)
    assert state.orientation is None
    assert state.referent_id is None
    assert state.cer is None
    assert state.sanctions_en_cours == frozenset()


def test_the_case_state_follows_the_steps() -> None:
    state = given(ENTREE, SOCIALE, REFERENT, RDV, SEEN, CER, *PROCEDURE, SANCTION)
    assert state.statut is Statut.ORIENTE
    assert state.orientation == Orientation(
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.CCAS,
        structure_id="ccas-1",
        date_orientation=D(2024, 1, 25),
    )
    assert state.referent_id == "ref-1"
    assert state.rdvs[1].issue is IssueRdv.SEEN
    assert state.cer == Cer(numero=1, date_debut=D(2024, 3, 1), date_fin=D(2024, 8, 31))
    assert state.sanctions_en_cours == frozenset({1})


def test_deciding_changes_nothing_in_the_state_it_reads() -> None:
    state = given(ENTREE, SOCIALE)
    before = msgspec.json.encode(state)
    first = when(state, RDV)
    assert when(state, RDV) == first
    assert msgspec.json.encode(state) == before


# --- numbering ----------------------------------------------------------------------------


def test_rdv_are_numbered_in_the_order_they_are_planned() -> None:
    info = c.PlanifierRdv(
        effective_on=D(2024, 1, 10),
        type_rdv=TypeRdv.INFORMATION_COLLECTIVE,
        mode=ModeRdv.INVITATION,
        date_rdv=D(2024, 1, 18),
    )
    state = given(ENTREE, info, SOCIALE, RDV)
    [third] = when(state, on(RDV, type_rdv=TypeRdv.SUIVI, date_rdv=D(2024, 3, 4)))
    assert isinstance(third, ev.RdvPlanifie)
    assert (third.numero, third.type_rdv) == (3, TypeRdv.SUIVI)


def test_rdv_numbers_are_never_reused_in_a_later_episode() -> None:
    state = given(ENTREE, SOCIALE, RDV, RDV, CLOTURE, REOUVERTURE)
    info = c.PlanifierRdv(
        effective_on=D(2024, 12, 9),
        type_rdv=TypeRdv.INFORMATION_COLLECTIVE,
        mode=ModeRdv.INVITATION,
        date_rdv=D(2024, 12, 16),
    )
    [rdv] = when(state, info)
    assert isinstance(rdv, ev.RdvPlanifie)
    assert rdv.numero == 3


def test_contracts_are_numbered_and_a_renewal_says_so() -> None:
    state = given(ENTREE, SOCIALE, CER, RENOUVELLEMENT)
    [third] = when(
        state, c.RenouvelerCer(effective_on=D(2024, 12, 2), date_debut=D(2025, 9, 1), duree_mois=9)
    )
    assert isinstance(third, ev.CerSigne)
    assert (third.numero, third.renouvellement, third.duree_mois) == (3, True, 9)


def test_a_first_contract_of_a_new_episode_is_not_a_renewal_and_keeps_the_numbering() -> None:
    state = given(ENTREE, SOCIALE, CER, CLOTURE, REOUVERTURE)
    state = given(on(SOCIALE, effective_on=D(2024, 12, 9)), state=state)
    [cer] = when(
        state, c.SignerCer(effective_on=D(2024, 12, 20), date_debut=D(2025, 1, 2), duree_mois=6)
    )
    assert isinstance(cer, ev.CerSigne)
    assert (cer.numero, cer.renouvellement) == (2, False)


def test_sanctions_are_numbered_across_the_case() -> None:
    state = given(ENTREE, SOCIALE, *PROCEDURE, SANCTION, LEVEE, *procedure(2, D(2024, 5, 6)))
    [second] = when(state, on(SANCTION, effective_on=D(2024, 6, 3), saisine=2))
    assert isinstance(second, ev.SanctionDecidee)
    assert second.numero == 2


# --- orientation first ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        CER,
        REFERENT,
        RDV,
        on(RDV, type_rdv=TypeRdv.DIAGNOSTIC),
        on(RDV, type_rdv=TypeRdv.SUIVI),
        on(RDV, type_rdv=TypeRdv.SIGNATURE_CER),
        on(RDV, type_rdv=TypeRdv.ENTRETIEN_ASC),
        c.TenirEntretienAsc(effective_on=D(2024, 2, 1), structure_id="asso-1"),
        c.DeciderReorientation(
            effective_on=D(2024, 2, 1),
            type_orientation=TypeOrientation.SOCIALE,
            organisme=TypeOrganisme.CCAS,
            structure_id="ccas-2",
            motif="x",
        ),
    ],
    ids=lambda command: getattr(command, "type_rdv", type(command).__name__),
)
def test_accompaniment_needs_a_current_orientation(command: c.Commande) -> None:
    refused(given(ENTREE), command, "orientation_requise", "effective_on")


@pytest.mark.parametrize("kind", [TypeRdv.INFORMATION_COLLECTIVE, TypeRdv.ENTRETIEN_ORIENTATION])
def test_rdv_that_prepare_the_orientation_may_precede_it(kind: TypeRdv) -> None:
    [rdv] = when(given(ENTREE), on(RDV, type_rdv=kind))
    assert isinstance(rdv, ev.RdvPlanifie)
    assert (rdv.numero, rdv.type_rdv) == (1, kind)


def test_a_second_orientation_is_refused_a_reorientation_is_needed() -> None:
    refused(given(ENTREE, SOCIALE), PRO, "deja_oriente", "type_orientation")


def test_a_reorientation_must_change_the_kind_or_the_structure() -> None:
    state = given(ENTREE, SOCIALE, REFERENT)
    same = c.DeciderReorientation(
        effective_on=D(2024, 3, 1),
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.ASSOCIATION,
        structure_id="ccas-1",
        motif="x",
    )
    refused(state, same, "reorientation_identique", "structure_id")
    assert len(when(state, on(same, structure_id="ccas-2"))) == 1
    assert len(when(state, on(same, type_orientation=TypeOrientation.SOCIO_PROFESSIONNELLE))) == 1


def test_a_reorientation_replaces_the_orientation_and_ends_the_referent() -> None:
    state = given(
        ENTREE,
        SOCIALE,
        REFERENT,
        c.DeciderReorientation(
            effective_on=D(2024, 3, 1),
            type_orientation=TypeOrientation.PROFESSIONNELLE,
            organisme=TypeOrganisme.FRANCE_TRAVAIL,
            structure_id="ft-1",
            motif="projet d'emploi",
            date_avis_ep=D(2024, 2, 27),
        ),
    )
    assert state.orientation == Orientation(
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id="ft-1",
        date_orientation=D(2024, 3, 1),
    )
    assert state.referent_id is None


# --- RDV outcomes -----------------------------------------------------------------------------


def test_an_outcome_needs_a_planned_rdv() -> None:
    refused(given(ENTREE, SOCIALE, RDV), on(SEEN, numero=2), "rdv_inconnu", "numero")


def test_an_outcome_is_for_a_rdv_of_the_current_episode() -> None:
    state = given(ENTREE, SOCIALE, RDV, CLOTURE, REOUVERTURE)
    refused(state, on(SEEN, effective_on=D(2024, 12, 9)), "rdv_inconnu", "numero")


def test_an_outcome_is_recorded_once() -> None:
    state = given(ENTREE, SOCIALE, RDV, SEEN)
    refused(state, SEEN, "issue_deja_enregistree", "numero")
    refused(
        state,
        on(SEEN, issue=IssueRdv.NOSHOW, effective_on=D(2024, 2, 6)),
        "issue_deja_enregistree",
        "numero",
    )


@pytest.mark.parametrize("issue", [IssueRdv.SEEN, IssueRdv.NOSHOW])
def test_a_rdv_is_not_honoured_or_missed_before_its_date(issue: IssueRdv) -> None:
    state = given(ENTREE, SOCIALE, RDV)
    refused(
        state, on(SEEN, issue=issue, effective_on=D(2024, 2, 4)), "date_anterieure", "effective_on"
    )
    [outcome] = when(state, on(SEEN, issue=issue, effective_on=D(2024, 2, 5)))
    assert isinstance(outcome, ev.IssueRdvEnregistree)
    assert (outcome.numero, outcome.issue) == (1, issue)


@pytest.mark.parametrize("issue", [IssueRdv.EXCUSED, IssueRdv.REVOKED])
def test_a_rdv_may_be_cancelled_before_its_date_but_not_before_it_was_planned(
    issue: IssueRdv,
) -> None:
    state = given(ENTREE, SOCIALE, RDV)
    [outcome] = when(state, on(SEEN, issue=issue, effective_on=D(2024, 1, 30)))
    assert outcome.effective_on == D(2024, 1, 30)
    refused(
        state, on(SEEN, issue=issue, effective_on=D(2024, 1, 28)), "date_anterieure", "effective_on"
    )


def test_a_rdv_is_not_set_before_the_day_it_is_planned() -> None:
    refused(given(ENTREE, SOCIALE), on(RDV, date_rdv=D(2024, 1, 28)), "date_anterieure", "date_rdv")


# --- contracts and ASC ------------------------------------------------------------------------


def test_a_first_contract_is_signed_once_per_episode() -> None:
    refused(given(ENTREE, SOCIALE, CER), on(CER, effective_on=D(2024, 3, 1)), "cer_existant", None)


def test_a_renewal_needs_a_contract() -> None:
    refused(given(ENTREE, SOCIALE), RENOUVELLEMENT, "cer_requis", None)


def test_a_contract_does_not_start_before_the_orientation() -> None:
    refused(
        given(ENTREE, SOCIALE), on(CER, date_debut=D(2024, 1, 24)), "date_anterieure", "date_debut"
    )


def test_a_renewal_does_not_start_before_the_contract_it_renews() -> None:
    refused(
        given(ENTREE, SOCIALE, CER),
        on(RENOUVELLEMENT, date_debut=D(2024, 2, 29)),
        "date_anterieure",
        "date_debut",
    )


def test_asc_is_for_people_in_professional_orientation_only() -> None:
    asc = c.TenirEntretienAsc(effective_on=D(2024, 2, 1), structure_id="asso-1")
    [held] = when(given(ENTREE, PRO), asc)
    assert held == ev.EntretienAscTenu(effective_on=D(2024, 2, 1), meta=META, structure_id="asso-1")
    refused(given(ENTREE, SOCIALE), asc, "asc_hors_orientation_professionnelle", None)
    socio = on(
        SOCIALE,
        type_orientation=TypeOrientation.SOCIO_PROFESSIONNELLE,
        organisme=TypeOrganisme.AAVE,
        structure_id="aave-1",
    )
    refused(given(ENTREE, socio), asc, "asc_hors_orientation_professionnelle", None)


# --- sanctions --------------------------------------------------------------------------------


def test_only_a_sanction_in_force_is_lifted() -> None:
    state = given(ENTREE, SOCIALE, *PROCEDURE, SANCTION)
    refused(state, on(LEVEE, numero=2), "sanction_non_en_vigueur", "numero")
    refused(given(LEVEE, state=state), LEVEE, "sanction_non_en_vigueur", "numero")


def test_a_closure_ends_the_sanctions_in_force() -> None:
    state = given(ENTREE, SOCIALE, *PROCEDURE, SANCTION, CLOTURE, REOUVERTURE)
    refused(state, on(LEVEE, effective_on=D(2024, 12, 10)), "sanction_non_en_vigueur", "numero")


# --- closed and exited episodes ---------------------------------------------------------------

_ACCOMPAGNEMENT_APRES_CLOTURE = [
    on(SOCIALE, effective_on=D(2024, 11, 4)),
    c.DeciderReorientation(
        effective_on=D(2024, 11, 4),
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.CCAS,
        structure_id="ccas-2",
        motif="x",
    ),
    on(REFERENT, effective_on=D(2024, 11, 4)),
    on(RDV, effective_on=D(2024, 11, 4), date_rdv=D(2024, 11, 12)),
    on(
        RDV,
        effective_on=D(2024, 11, 4),
        date_rdv=D(2024, 11, 12),
        type_rdv=TypeRdv.INFORMATION_COLLECTIVE,
    ),
    on(SEEN, numero=2, effective_on=D(2024, 11, 4)),
    on(CER, effective_on=D(2024, 11, 4), date_debut=D(2024, 11, 4)),
    on(RENOUVELLEMENT, effective_on=D(2024, 11, 4), date_debut=D(2024, 11, 4)),
    c.TenirEntretienAsc(effective_on=D(2024, 11, 4), structure_id="asso-1"),
    on(SORTIE, effective_on=D(2024, 11, 4)),
    on(SANCTION, effective_on=D(2024, 11, 4)),
    on(LEVEE, effective_on=D(2024, 11, 4)),
]


@pytest.mark.parametrize(
    "command",
    [
        *_ACCOMPAGNEMENT_APRES_CLOTURE,
        c.SuspendreDroit(effective_on=D(2024, 11, 4)),
        c.ReprendreDroit(effective_on=D(2024, 11, 4)),
        on(CLOTURE, effective_on=D(2024, 11, 4)),
    ],
    ids=lambda command: type(command).__name__,
)
def test_no_step_on_a_closed_episode(command: c.Commande) -> None:
    state = given(ENTREE, SOCIALE, RDV, CER, *PROCEDURE, SANCTION, CLOTURE)
    refused(state, command, "episode_clos", None)


@pytest.mark.parametrize(
    "command", _ACCOMPAGNEMENT_APRES_CLOTURE, ids=lambda command: type(command).__name__
)
def test_no_accompaniment_step_after_an_exit(command: c.Commande) -> None:
    state = given(
        ENTREE, SOCIALE, RDV, CER, *PROCEDURE, SANCTION, on(SORTIE, effective_on=D(2024, 10, 31))
    )
    refused(state, command, "episode_clos", None)


def test_a_renewal_on_a_closed_episode_says_the_episode_is_closed() -> None:
    """Not "no contract to renew": a renewal would not be accepted either."""
    state = given(ENTREE, SOCIALE, CLOTURE)
    refused(state, on(RENOUVELLEMENT, effective_on=D(2024, 11, 4)), "episode_clos", None)


def test_the_right_may_still_close_after_an_exit() -> None:
    state = given(ENTREE, SOCIALE, SORTIE)
    assert when(state, CLOTURE) == [
        ev.DroitClos(
            effective_on=D(2024, 10, 31), meta=META, motif=MotifCloture.RESSOURCES_SUPERIEURES
        )
    ]


@pytest.mark.parametrize("end", [SORTIE, CLOTURE], ids=["sortie", "cloture"])
def test_a_reopening_starts_a_new_episode_with_nothing_carried_over(end: c.Commande) -> None:
    state = given(ENTREE, SOCIALE, REFERENT, RDV, CER, *PROCEDURE, SANCTION, end, REOUVERTURE)
    assert (state.statut, state.episode, state.date_entree) == (
        Statut.A_ORIENTER,
        2,
        D(2024, 12, 2),
    )
    assert (state.orientation, state.referent_id, state.cer) == (None, None, None)
    assert state.sanctions_en_cours == frozenset()
    [orientation] = when(state, on(PRO, effective_on=D(2024, 12, 9)))
    assert isinstance(orientation, ev.OrientationDecidee)


def test_an_open_episode_is_not_reopened() -> None:
    refused(given(ENTREE, SOCIALE), REOUVERTURE, "episode_ouvert", "effective_on")


def test_a_reopening_does_not_precede_the_previous_entry() -> None:
    state = given(ENTREE, CLOTURE)
    refused(
        state,
        on(REOUVERTURE, effective_on=D(2024, 1, 2), date_flux=D(2024, 1, 2)),
        "date_anterieure",
        "effective_on",
    )


# --- rights -----------------------------------------------------------------------------------


def test_a_right_is_suspended_once_and_resumed_only_when_suspended() -> None:
    state = given(ENTREE, SOCIALE)
    refused(state, c.ReprendreDroit(effective_on=D(2024, 2, 1)), "droit_non_suspendu", None)
    suspended = given(c.SuspendreDroit(effective_on=D(2024, 2, 1), motif="DTR"), state=state)
    assert suspended.droit_suspendu
    refused(suspended, c.SuspendreDroit(effective_on=D(2024, 2, 2)), "droit_deja_suspendu", None)
    assert not given(c.ReprendreDroit(effective_on=D(2024, 3, 1)), state=suspended).droit_suspendu


def test_a_case_is_entered_once_then_reopened() -> None:
    refused(given(ENTREE), ENTREE, "dossier_existant", None)


@pytest.mark.parametrize(
    "command",
    [SOCIALE, REFERENT, RDV, CER, SANCTION, SORTIE, CLOTURE, REOUVERTURE],
    ids=lambda command: type(command).__name__,
)
def test_no_step_on_an_unknown_case(command: c.Commande) -> None:
    refused(Dossier(), command, "dossier_inconnu", None)


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [on(ENTREE, effective_on=D(2025, 1, 1)), on(SOCIALE, effective_on=D(2025, 1, 1))],
    ids=["entree", "orientation"],
)
def test_a_step_does_not_take_effect_in_the_future(command: c.Commande) -> None:
    state = Dossier() if isinstance(command, c.EnregistrerEntree) else given(ENTREE)
    refused(state, command, "date_future", "effective_on")


def test_today_itself_is_not_the_future() -> None:
    [orientation] = when(given(ENTREE), on(SOCIALE, effective_on=TODAY))
    assert orientation.effective_on == TODAY


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date_flux": D(2025, 1, 1), "date_reception_flux": D(2025, 1, 2)}, "date_flux"),
        ({"date_reception_flux": D(2025, 1, 2)}, "date_reception_flux"),
    ],
)
def test_the_flux_dates_are_not_in_the_future(changes: dict[str, date], field: str) -> None:
    refused(Dossier(), on(ENTREE, **changes), "date_future", field)


def test_the_flux_is_not_received_before_it_was_sent() -> None:
    refused(
        Dossier(),
        on(ENTREE, date_reception_flux=D(2024, 1, 3)),
        "date_anterieure",
        "date_reception_flux",
    )


def test_the_ep_opinion_is_not_in_the_future() -> None:
    reorientation = c.DeciderReorientation(
        effective_on=D(2024, 3, 1),
        type_orientation=TypeOrientation.SOCIALE,
        organisme=TypeOrganisme.CCAS,
        structure_id="ccas-2",
        motif="x",
        date_avis_ep=D(2025, 1, 6),
    )
    refused(given(ENTREE, SOCIALE), reorientation, "date_future", "date_avis_ep")


@pytest.mark.parametrize(
    "command",
    [
        on(SOCIALE, effective_on=D(2024, 1, 2)),
        on(SANCTION, effective_on=D(2024, 1, 2)),
        on(SORTIE, effective_on=D(2024, 1, 2)),
        c.SuspendreDroit(effective_on=D(2024, 1, 2)),
        on(CLOTURE, effective_on=D(2024, 1, 2)),
        on(
            RDV,
            effective_on=D(2024, 1, 2),
            type_rdv=TypeRdv.INFORMATION_COLLECTIVE,
        ),
    ],
    ids=lambda command: type(command).__name__,
)
def test_a_step_does_not_precede_the_entry(command: c.Commande) -> None:
    refused(given(ENTREE), command, "date_anterieure", "effective_on")


@pytest.mark.parametrize(
    "command",
    [
        on(REFERENT, effective_on=D(2024, 1, 24)),
        on(RDV, effective_on=D(2024, 1, 24)),
        on(CER, effective_on=D(2024, 1, 24)),
        c.TenirEntretienAsc(effective_on=D(2024, 1, 24), structure_id="asso-1"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_an_accompaniment_step_does_not_precede_the_orientation(command: c.Commande) -> None:
    refused(given(ENTREE, PRO), command, "date_anterieure", "effective_on")


def test_a_backdated_step_is_accepted_when_it_respects_the_rules() -> None:
    """Keyed today, a RDV that was planned last month, after the orientation."""
    state = given(ENTREE, on(SOCIALE, effective_on=D(2024, 10, 15)))
    keyed_late = c.PlanifierRdv(
        effective_on=D(2024, 11, 20),
        type_rdv=TypeRdv.SUIVI,
        mode=ModeRdv.INVITATION,
        date_rdv=D(2024, 11, 28),
    )
    assert when(state, keyed_late) == [
        ev.RdvPlanifie(
            effective_on=D(2024, 11, 20),
            meta=META,
            numero=1,
            type_rdv=TypeRdv.SUIVI,
            mode=ModeRdv.INVITATION,
            date_rdv=D(2024, 11, 28),
        )
    ]


def test_an_entry_keyed_weeks_later_keeps_its_own_date() -> None:
    [entree] = when(Dossier(), ENTREE, today=D(2024, 2, 20))
    assert entree.effective_on == D(2024, 1, 3)
    assert entree.meta.recorded_at == datetime(2024, 12, 31, 9, 15, tzinfo=UTC)
