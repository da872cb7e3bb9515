"""The path's rules, given a history, when a command, then events or a refusal (pure, no I/O)."""

from datetime import UTC, date, datetime

import pytest

from domain import commands as c
from domain.decide import Contexte, decide
from domain.dossier import Dossier, Statut, fold
from domain.errors import DomainError
from domain.events import Evenement, Meta
from domain.vocabulary import (
    IssueRdv,
    ModeRdv,
    MotifCloture,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSortie,
)
from tests.ep_steps import sanctionner

TODAY = date(2024, 12, 31)
META = Meta(recorded_at=datetime(2024, 12, 31, tzinfo=UTC), recorded_by="agent", request_id="r")

ENTREE = c.EnregistrerEntree(
    effective_on=date(2024, 1, 3),
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=date(2024, 1, 4),
    date_reception_flux=date(2024, 1, 8),
)
ORIENTATION = c.DeciderOrientation(
    effective_on=date(2024, 1, 25),
    type_orientation=TypeOrientation.SOCIALE,
    organisme=TypeOrganisme.CCAS,
    structure_id="ccas-1",
)
PRO = c.DeciderOrientation(
    effective_on=date(2024, 1, 25),
    type_orientation=TypeOrientation.PROFESSIONNELLE,
    organisme=TypeOrganisme.FRANCE_TRAVAIL,
    structure_id="ft-1",
)
RDV = c.PlanifierRdv(
    effective_on=date(2024, 1, 29),
    type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
    mode=ModeRdv.CONVOCATION,
    date_rdv=date(2024, 2, 5),
)
CER = c.SignerCer(effective_on=date(2024, 2, 20), date_debut=date(2024, 3, 1), duree_mois=6)


def given(*commands: c.Commande) -> Dossier:
    """The state after recording `commands` (each must be accepted)."""
    state = Dossier()
    for command in commands:
        state = fold(decide(state, command, Contexte(today=TODAY, meta=META)), state)
    return state


def when(state: Dossier, command: c.Commande, today: date = TODAY) -> list[Evenement]:
    return decide(state, command, Contexte(today=today, meta=META))


def refused(state: Dossier, command: c.Commande, code: str, field: str | None = None) -> None:
    with pytest.raises(DomainError) as error:
        when(state, command)
    assert error.value.code == code
    assert error.value.field == field


def test_a_full_path_over_two_episodes() -> None:
    state = given(
        ENTREE,
        ORIENTATION,
        c.DesignerReferent(effective_on=date(2024, 1, 29), referent_id="ref-1"),
        RDV,
        c.EnregistrerIssueRdv(effective_on=date(2024, 2, 5), numero=1, issue=IssueRdv.SEEN),
        CER,
        c.RenouvelerCer(effective_on=date(2024, 8, 20), date_debut=date(2024, 9, 1), duree_mois=12),
        *sanctionner(1, date(2024, 3, 4), date(2024, 4, 2)),
        c.LeverSanction(effective_on=date(2024, 5, 2), numero=1),
        c.EnregistrerSortie(effective_on=date(2024, 10, 1), type_sortie=TypeSortie.EMPLOI_CDI),
        c.CloreDroit(effective_on=date(2024, 10, 31), motif=MotifCloture.RESSOURCES_SUPERIEURES),
    )
    assert state.statut is Statut.CLOS
    assert state.nb_cer == 2
    assert state.cer is not None
    assert state.cer.date_fin == date(2025, 8, 31)
    reopened = given_from(
        state,
        c.RouvrirDroit(
            effective_on=date(2024, 12, 2),
            date_flux=date(2024, 12, 3),
            date_reception_flux=date(2024, 12, 5),
        ),
    )
    assert reopened.episode == 2
    assert reopened.statut is Statut.A_ORIENTER
    assert reopened.date_entree == date(2024, 12, 2)
    assert reopened.orientation is None
    assert reopened.cer is None
    assert reopened.referent_id is None


def given_from(state: Dossier, *commands: c.Commande) -> Dossier:
    for command in commands:
        state = fold(when(state, command), state)
    return state


def test_rdv_cer_and_sanctions_are_numbered_per_case() -> None:
    state = given(ENTREE, ORIENTATION, RDV, RDV)
    assert sorted(state.rdvs) == [1, 2]
    [cer] = when(
        given_from(state, CER),
        c.RenouvelerCer(effective_on=date(2024, 8, 1), date_debut=date(2024, 9, 1), duree_mois=9),
    )
    assert cer.numero == 2
    assert cer.renouvellement is True


@pytest.mark.parametrize(
    "command",
    [
        CER,
        c.DesignerReferent(effective_on=date(2024, 1, 29), referent_id="ref-1"),
        RDV,
        c.TenirEntretienAsc(effective_on=date(2024, 2, 1), structure_id="asso-1"),
        c.DeciderReorientation(
            effective_on=date(2024, 2, 1),
            type_orientation=TypeOrientation.SOCIALE,
            organisme=TypeOrganisme.CCAS,
            structure_id="ccas-2",
            motif="x",
        ),
    ],
    ids=lambda command: type(command).__name__,
)
def test_accompaniment_needs_a_current_orientation(command: c.Commande) -> None:
    refused(given(ENTREE), command, "orientation_requise", "effective_on")


def test_an_information_collective_may_precede_the_orientation() -> None:
    info = c.PlanifierRdv(
        effective_on=date(2024, 1, 10),
        type_rdv=TypeRdv.INFORMATION_COLLECTIVE,
        mode=ModeRdv.INVITATION,
        date_rdv=date(2024, 1, 18),
    )
    [event] = when(given(ENTREE), info)
    assert event.numero == 1  # type: ignore[attr-defined]


def test_an_outcome_needs_a_planned_rdv_and_is_recorded_once() -> None:
    state = given(ENTREE, ORIENTATION, RDV)
    refused(
        state,
        c.EnregistrerIssueRdv(effective_on=date(2024, 2, 5), numero=2, issue=IssueRdv.SEEN),
        "rdv_inconnu",
        "numero",
    )
    seen = c.EnregistrerIssueRdv(effective_on=date(2024, 2, 5), numero=1, issue=IssueRdv.SEEN)
    refused(given_from(state, seen), seen, "issue_deja_enregistree", "numero")


def test_a_rdv_is_not_seen_before_its_date_but_may_be_cancelled_before() -> None:
    state = given(ENTREE, ORIENTATION, RDV)
    refused(
        state,
        c.EnregistrerIssueRdv(effective_on=date(2024, 2, 1), numero=1, issue=IssueRdv.SEEN),
        "date_anterieure",
        "effective_on",
    )
    [event] = when(
        state,
        c.EnregistrerIssueRdv(effective_on=date(2024, 2, 1), numero=1, issue=IssueRdv.EXCUSED),
    )
    assert event.effective_on == date(2024, 2, 1)


def test_dates_are_not_in_the_future_nor_before_the_entry() -> None:
    state = given(ENTREE)
    refused(
        state,
        c.DeciderOrientation(**{**_fields(ORIENTATION), "effective_on": date(2025, 1, 1)}),
        "date_future",
        "effective_on",
    )
    refused(
        state,
        c.DeciderOrientation(**{**_fields(ORIENTATION), "effective_on": date(2023, 12, 1)}),
        "date_anterieure",
        "effective_on",
    )
    refused(
        Dossier(),
        c.EnregistrerEntree(**{**_fields(ENTREE), "date_flux": date(2025, 2, 1)}),
        "date_future",
        "date_flux",
    )


def _fields(command: c.Commande) -> dict[str, object]:
    return {name: getattr(command, name) for name in command.__struct_fields__}


def test_a_backdated_step_is_accepted_when_it_respects_the_rules() -> None:
    state = given(ENTREE, ORIENTATION)
    keyed_late = c.PlanifierRdv(
        effective_on=date(2024, 2, 1),
        type_rdv=TypeRdv.SUIVI,
        mode=ModeRdv.INVITATION,
        date_rdv=date(2024, 2, 12),
    )
    [event] = when(state, keyed_late, today=date(2024, 11, 30))
    assert event.effective_on == date(2024, 2, 1)


def test_no_step_on_a_closed_or_exited_episode_except_reopening() -> None:
    closed = given(
        ENTREE,
        ORIENTATION,
        c.CloreDroit(effective_on=date(2024, 3, 1), motif=MotifCloture.DEMENAGEMENT),
    )
    refused(closed, RDV, "episode_clos")
    refused(closed, c.SuspendreDroit(effective_on=date(2024, 3, 5)), "episode_clos")
    exited = given(
        ENTREE,
        ORIENTATION,
        c.EnregistrerSortie(effective_on=date(2024, 3, 1), type_sortie=TypeSortie.RETRAITE),
    )
    refused(exited, CER, "episode_clos")
    [closure] = when(exited, c.CloreDroit(effective_on=date(2024, 3, 2), motif=MotifCloture.AUTRE))
    assert closure.effective_on == date(2024, 3, 2)
    refused(
        given(ENTREE),
        c.RouvrirDroit(
            effective_on=date(2024, 2, 1),
            date_flux=date(2024, 2, 1),
            date_reception_flux=date(2024, 2, 2),
        ),
        "episode_ouvert",
        "effective_on",
    )


def test_only_a_sanction_in_force_is_lifted() -> None:
    state = given(ENTREE, ORIENTATION, *sanctionner(1, date(2024, 1, 26), date(2024, 2, 16)))
    lift = c.LeverSanction(effective_on=date(2024, 3, 1), numero=1)
    refused(given_from(state, lift), lift, "sanction_non_en_vigueur", "numero")
    refused(
        state,
        c.LeverSanction(effective_on=date(2024, 3, 1), numero=2),
        "sanction_non_en_vigueur",
        "numero",
    )


def test_orientation_cer_and_rights_rules() -> None:
    oriented = given(ENTREE, ORIENTATION)
    refused(oriented, ORIENTATION, "deja_oriente", "type_orientation")
    refused(
        oriented,
        c.DeciderReorientation(
            effective_on=date(2024, 2, 1),
            type_orientation=TypeOrientation.SOCIALE,
            organisme=TypeOrganisme.CCAS,
            structure_id="ccas-1",
            motif="x",
        ),
        "reorientation_identique",
        "structure_id",
    )
    refused(given_from(oriented, CER), CER, "cer_existant")
    refused(
        oriented,
        c.RenouvelerCer(effective_on=date(2024, 3, 1), date_debut=date(2024, 3, 1), duree_mois=6),
        "cer_requis",
    )
    refused(
        oriented,
        c.TenirEntretienAsc(effective_on=date(2024, 2, 1), structure_id="asso-1"),
        "asc_hors_orientation_professionnelle",
    )
    [asc] = when(
        given(ENTREE, PRO),
        c.TenirEntretienAsc(effective_on=date(2024, 2, 1), structure_id="asso-1"),
    )
    assert asc.structure_id == "asso-1"  # type: ignore[attr-defined]
    refused(oriented, c.ReprendreDroit(effective_on=date(2024, 2, 1)), "droit_non_suspendu")
    suspended = given_from(oriented, c.SuspendreDroit(effective_on=date(2024, 2, 1)))
    refused(suspended, c.SuspendreDroit(effective_on=date(2024, 2, 2)), "droit_deja_suspendu")


def test_unknown_case_and_second_entry() -> None:
    refused(Dossier(), ORIENTATION, "dossier_inconnu")
    refused(given(ENTREE), ENTREE, "dossier_existant")


def test_events_carry_the_recording_metadata() -> None:
    [event] = when(given(ENTREE), ORIENTATION)
    assert event.meta == META
    assert event.effective_on == date(2024, 1, 25)
