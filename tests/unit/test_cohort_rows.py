"""Both extract shapes, the cohort criteria, the curves and the transitions, on the hand-built
histories of `tests/cohort_history.py`; every expected value is worked out by hand."""

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from domain.cohorts import DefinitionCohorte, TrancheAge, tranche_age
from domain.corrections import effective_history
from domain.vocabulary import Sexe, TypeOrientation
from projections.cohort import (
    COLONNES_EPISODES,
    COLONNES_EVENEMENTS,
    appartient,
    entree_possible,
    episodes,
    ligne_episode,
    lignes_evenements,
)
from projections.cohort_analysis import Delais, Transitions
from projections.pseudonym import NiveauCommune, cle_personne, commune_publiee
from tests.cohort_history import CASE_A, HISTORY_A, HISTORY_B, HISTORY_C

D = date
COHORT_2024 = DefinitionCohorte(entree_du=D(2024, 1, 1), entree_au=D(2024, 12, 31))


def test_voided_step_and_its_voiding_event_are_dropped() -> None:
    versions = [r.originator_version for r in effective_history(HISTORY_A)]
    assert versions == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16]


def test_episode_rows_of_person_a() -> None:
    first, second = (
        ligne_episode("k", ep, ep.numero == 1, NiveauCommune.COMMUNE) for ep in episodes(HISTORY_A)
    )
    assert first == {
        "cle_personne": "k",
        "episode": 1,
        "dans_cohorte": True,
        "sexe": "F",
        "tranche_age": "30_39",
        "commune": "94028",
        "soumis_droits_devoirs": True,
        "organisme_payeur": "caf",
        "date_entree": D(2024, 1, 3),
        "date_flux": D(2024, 1, 4),
        "date_orientation": D(2024, 1, 25),
        "type_orientation": "sociale",
        "organisme": "ccas",
        "structure_id": "ccas-creteil",
        "date_referent": D(2024, 1, 29),
        "date_premier_rdv": D(2024, 2, 5),
        "date_premier_cer": D(2024, 2, 20),
        "date_sortie": D(2024, 7, 15),
        "type_sortie": "emploi_cdd_plus_6_mois",
        "sortie_positive": True,
        "date_cloture": D(2024, 8, 1),
        "motif_cloture": "ressources_superieures",
        "delai_orientation_jours": 22,
        "delai_referent_jours": 4,
        "delai_premier_rdv_jours": 11,
        "delai_cer_jours": 26,
        "delai_sortie_jours": 194,
        "nb_rdv_honores": 1,
        "nb_rdv_absences": 1,
        "nb_rdv_excuses": 0,
        "nb_rdv_annules": 0,
        "nb_cer": 1,
        "nb_sanctions": 1,
        "nb_sanctions_levees": 0,
        "nb_reorientations": 1,
        "nb_suspensions": 0,
        "nb_entretiens_asc": 0,
    }
    assert list(first) == [c.nom for c in COLONNES_EPISODES]
    empty = {"date_referent", "date_premier_rdv", "date_premier_cer", "date_sortie"}
    assert second == {
        **first,
        "episode": 2,
        "dans_cohorte": False,
        "tranche_age": "30_39",
        "date_entree": D(2025, 3, 3),
        "date_flux": D(2025, 3, 4),
        "date_orientation": D(2025, 3, 20),
        "type_orientation": "professionnelle",
        "organisme": "france_travail",
        "structure_id": "ft-creteil",
        **dict.fromkeys(empty),
        "type_sortie": None,
        "sortie_positive": None,
        "date_cloture": None,
        "motif_cloture": None,
        "delai_orientation_jours": 17,
        "delai_referent_jours": None,
        "delai_premier_rdv_jours": None,
        "delai_cer_jours": None,
        "delai_sortie_jours": None,
        **{k: 0 for k in first if k.startswith("nb_")},
    }


def test_episode_row_of_person_b_coarsened_commune() -> None:
    (only,) = episodes(HISTORY_B)
    row = ligne_episode("k", only, True, NiveauCommune.DEPARTEMENT)
    assert (row["sexe"], row["tranche_age"], row["commune"]) == ("M", "60_plus", "94")
    assert (row["date_orientation"], row["delai_orientation_jours"]) == (None, None)
    assert row["nb_suspensions"] == 1
    assert ligne_episode("k", only, True, NiveauCommune.AUCUNE)["commune"] is None


def test_event_rows_of_person_a() -> None:
    rows = lignes_evenements("k", HISTORY_A)
    assert all(list(r) == [c.nom for c in COLONNES_EVENEMENTS] for r in rows)
    assert [(r["rang"], r["episode"], r["type_evenement"], r["date_effet"]) for r in rows] == [
        (1, 1, "EntreeEnregistree", D(2024, 1, 3)),
        (2, 1, "OrientationDecidee", D(2024, 1, 25)),
        (3, 1, "ReferentDesigne", D(2024, 1, 29)),
        (4, 1, "RdvPlanifie", D(2024, 1, 29)),
        (5, 1, "IssueRdvEnregistree", D(2024, 2, 5)),
        (6, 1, "RdvPlanifie", D(2024, 2, 6)),
        (7, 1, "IssueRdvEnregistree", D(2024, 2, 12)),
        (8, 1, "CerSigne", D(2024, 2, 20)),
        (9, 1, "SanctionDecidee", D(2024, 4, 10)),
        (10, 1, "ReorientationDecidee", D(2024, 5, 2)),
        (11, 1, "SortieEnregistree", D(2024, 7, 15)),
        (12, 1, "DroitClos", D(2024, 8, 1)),
        (13, 2, "DroitRouvert", D(2025, 3, 3)),
        (14, 2, "OrientationDecidee", D(2025, 3, 20)),
    ]
    none = dict.fromkeys(c.nom for c in COLONNES_EVENEMENTS)
    base = {"cle_personne": "k", "episode": 1}
    assert rows[1] == {
        **none,
        **base,
        "rang": 2,
        "type_evenement": "OrientationDecidee",
        "date_effet": D(2024, 1, 25),
        "enregistre_le": datetime(2024, 1, 25, 9, 30, tzinfo=UTC),
        "structure_id": "ccas-creteil",
        "type_orientation": "sociale",
        "organisme": "ccas",
        "mode": "decidee",
    }
    assert rows[2] == {
        **none,
        **base,
        "rang": 3,
        "type_evenement": "ReferentDesigne",
        "date_effet": D(2024, 1, 29),
        "enregistre_le": datetime(2024, 1, 29, 9, 30, tzinfo=UTC),
        "structure_id": "ccas-creteil",
    }
    picked = [
        "numero",
        "type_rdv",
        "mode",
        "date_rdv",
        "issue_rdv",
        "duree_cer_mois",
        "renouvellement",
        "type_sortie",
        "type_sanction",
        "motif_cloture",
        "soumis_droits_devoirs",
        "structure_id",
    ]
    kinds = [{k: v for k, v in r.items() if k in picked and v is not None} for r in rows]
    assert kinds == [
        {"soumis_droits_devoirs": True},
        {"structure_id": "ccas-creteil", "mode": "decidee"},
        {"structure_id": "ccas-creteil"},
        {
            "structure_id": "ccas-creteil",
            "numero": 1,
            "type_rdv": "premier_accompagnement",
            "mode": "convocation",
            "date_rdv": D(2024, 2, 5),
        },
        {"structure_id": "ccas-creteil", "numero": 1, "issue_rdv": "noshow"},
        {
            "structure_id": "ccas-creteil",
            "numero": 2,
            "type_rdv": "suivi",
            "mode": "invitation",
            "date_rdv": D(2024, 2, 12),
        },
        {"structure_id": "ccas-creteil", "numero": 2, "issue_rdv": "seen"},
        {"structure_id": "ccas-creteil", "numero": 1, "duree_cer_mois": 6, "renouvellement": False},
        {"structure_id": "ccas-creteil", "numero": 1, "type_sanction": "reduction"},
        {"structure_id": "ft-creteil"},
        {"structure_id": "ft-creteil", "type_sortie": "emploi_cdd_plus_6_mois"},
        {"motif_cloture": "ressources_superieures"},
        {"soumis_droits_devoirs": True},
        {"structure_id": "ft-creteil", "mode": "automatique"},
    ]


@pytest.mark.parametrize(
    ("definition", "a1", "a2", "b", "c"),
    [
        (COHORT_2024, True, False, True, False),
        (DefinitionCohorte(), True, True, True, True),
        (DefinitionCohorte(communes=["94028"]), True, True, False, True),
        (DefinitionCohorte(structures=["ft-creteil"]), False, True, False, False),
        (
            DefinitionCohorte(types_orientation=[TypeOrientation.SOCIALE]),
            True,
            False,
            False,
            False,
        ),
        (DefinitionCohorte(sexes=[Sexe.M]), False, False, True, False),
        (DefinitionCohorte(tranches_age=[TrancheAge.DE_30_39]), True, True, False, False),
        (DefinitionCohorte(tranches_age=[TrancheAge.MOINS_25]), False, False, False, True),
        (DefinitionCohorte(soumis_droits_devoirs=False), False, False, False, False),
    ],
)
def test_membership(definition: DefinitionCohorte, a1: bool, a2: bool, b: bool, c: bool) -> None:
    first, second = episodes(HISTORY_A)
    (only_b,) = episodes(HISTORY_B)
    (only_c,) = episodes(HISTORY_C)
    got = [appartient(definition, ep) for ep in (first, second, only_b, only_c)]
    assert got == [a1, a2, b, c]
    # The first look at entry events alone never turns away a case with an episode inside.
    looks = [
        entree_possible(definition, [r.event for r in h]) for h in (HISTORY_A, HISTORY_B, HISTORY_C)
    ]
    assert [looks[0] or not (a1 or a2), looks[1] or not b, looks[2] or not c] == [True] * 3


def test_first_look_turns_away_cases_without_an_entry_in_the_period() -> None:
    assert not entree_possible(COHORT_2024, [r.event for r in HISTORY_C])
    assert entree_possible(COHORT_2024, [r.event for r in HISTORY_A])
    later = DefinitionCohorte(entree_du=D(2025, 1, 1))
    assert entree_possible(later, [r.event for r in HISTORY_A])
    assert not entree_possible(later, [r.event for r in HISTORY_B])


def test_age_bands_at_their_edges() -> None:
    assert tranche_age(2000, 2024) is TrancheAge.MOINS_25  # 24
    assert tranche_age(1999, 2024) is TrancheAge.DE_25_29  # 25
    assert tranche_age(1965, 2024) is TrancheAge.DE_50_59  # 59
    assert tranche_age(1964, 2024) is TrancheAge.PLUS_60  # 60
    assert tranche_age(None, 2024) is None


def test_person_key_is_keyed_and_stable_per_key() -> None:
    one = cle_personne(b"a" * 32, CASE_A)
    assert one == cle_personne(b"a" * 32, CASE_A)
    assert one != cle_personne(b"b" * 32, CASE_A)
    assert one != cle_personne(b"a" * 32, UUID(int=1))
    assert len(one) == 32
    assert CASE_A.hex not in one


def test_commune_coarsening() -> None:
    assert commune_publiee("94028", NiveauCommune.DEPARTEMENT) == "94"
    assert commune_publiee("97411", NiveauCommune.DEPARTEMENT) == "974"
    assert commune_publiee("2A004", NiveauCommune.DEPARTEMENT) == "2A"
    assert commune_publiee("94028", NiveauCommune.COMMUNE) == "94028"


def test_curve_values_at_chosen_days() -> None:
    delais = Delais()
    for history in (HISTORY_A, HISTORY_B, HISTORY_C):
        for ep in episodes(history):
            if appartient(COHORT_2024, ep):
                delais.add(ep)
    # Two episodes: A's first (oriented day 22, CER day 48, exit day 194) and B's (nothing).
    result = delais.courbes("c2024", [0, 21, 22, 47, 48, 193, 194, 365])
    assert result.episodes == 2
    parts = {c.jalon: c.parts for c in result.courbes}
    assert parts == {
        "orientation": [0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
        "contrat": [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5],
        "sortie": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5],
    }


def test_transition_table() -> None:
    transitions = Transitions()
    transitions.add(HISTORY_A)
    transitions.add(HISTORY_B)
    table = {(t.depuis, t.vers): (t.nombre, t.jours_median) for t in transitions.table()}
    assert table == {
        ("EntreeEnregistree", "OrientationDecidee"): (1, 22.0),
        ("OrientationDecidee", "ReferentDesigne"): (1, 4.0),
        ("ReferentDesigne", "RdvPlanifie"): (1, 0.0),
        ("RdvPlanifie", "IssueRdvEnregistree"): (2, 6.5),
        ("IssueRdvEnregistree", "RdvPlanifie"): (1, 1.0),
        ("IssueRdvEnregistree", "CerSigne"): (1, 8.0),
        ("CerSigne", "SanctionDecidee"): (1, 50.0),
        ("SanctionDecidee", "ReorientationDecidee"): (1, 22.0),
        ("ReorientationDecidee", "SortieEnregistree"): (1, 74.0),
        ("SortieEnregistree", "DroitClos"): (1, 17.0),
        ("DroitClos", "DroitRouvert"): (1, 214.0),
        ("DroitRouvert", "OrientationDecidee"): (1, 17.0),
        ("EntreeEnregistree", "DroitSuspendu"): (1, 20.0),
    }
    assert transitions.table()[0].nombre == 2


def test_transitions_from_a_later_episode() -> None:
    transitions = Transitions()
    transitions.add(HISTORY_A, from_episode=2)
    assert [(t.depuis, t.vers, t.nombre) for t in transitions.table()] == [
        ("DroitRouvert", "OrientationDecidee", 1)
    ]
