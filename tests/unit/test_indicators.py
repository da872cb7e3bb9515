"""Each délais indicator on the hand-built département of tests/delais_history.py: the expected
figures are computed by hand from the dates written there (the arithmetic is in comments)."""

from datetime import UTC, date, datetime

import pytest

from adapters.rules import load_reglement
from domain.events import Meta
from domain.structures import StructureDeclaree, StructureRegistry
from domain.vocabulary import TypeOrganisme
from projections.complementaires import complementaires
from projections.drees import drees
from projections.indicateurs import Choix, Periode, annee, centile_90, mediane, moyenne
from projections.indicateurs_aave import indicateurs_aave
from projections.suivi import Suivi, suivre
from projections.table31 import table31
from projections.taux import taux_et_delais
from projections.worklists import Motif, alertes
from tests.delais_history import departement

REGLEMENT = load_reglement()
EN_VIGUEUR = Choix(REGLEMENT)
Y2024 = annee(2024)


@pytest.fixture(scope="module")
def episodes() -> list[Suivi]:
    return [s for person in departement().values() for s in suivre(person.events)]


def only(tableau_lignes: list[dict[str, object]]) -> dict[str, object]:
    assert len(tableau_lignes) == 1
    return tableau_lignes[0]


def test_table31_under_the_rules_in_force(episodes: list[Suivi]) -> None:
    t = table31(episodes, Y2024, None, EN_VIGUEUR)
    assert t.regles == ["strategie-2018"]
    assert only(t.lignes) == {
        # P1 (flux 01-12), P2 (03-04), P3 (06-05), P4 (11-21), P7's re-entry (10-02), P8 (02-02)
        "nouveaux_entrants": 6,
        # within a month of the flux: P1 02-05 ≤ 02-12, P3 06-20 ≤ 07-05, P8 03-01 ≤ 03-02;
        # P2 04-10 > 04-04
        "orientes_dans_le_delai": 3,
        # first accompaniment RDV planned in 2024, social or socio-professional outside France
        # Travail: P1 (for 02-15 ≤ 02-19 ✓), P3 (for 07-10 > 07-04 ✗), P5 (for 01-12, oriented
        # 2023-05-01 ✗); P8 is at France Travail
        "premiers_rdv": 3,
        "premiers_rdv_dans_le_delai": 1,
        # entrants' first CER outside France Travail: P1 03-20 ≤ 04-05 ✓, P3 09-10 > 08-20 ✗
        "premiers_cer": 2,
        "premiers_cer_dans_le_delai": 1,
    }


def test_table31_reread_under_the_2025_rules(episodes: list[Suivi]) -> None:
    t = table31(episodes, Y2024, None, Choix(REGLEMENT, "plein-emploi-2025"))
    assert t.regles == ["plein-emploi-2025"]
    line = only(t.lignes)
    # six weeks from the flux: P2 04-10 ≤ 04-15 now on time too
    assert line["orientes_dans_le_delai"] == 4
    # one month for the contract: P1 03-20 > 03-05
    assert line["premiers_cer_dans_le_delai"] == 0
    assert line["nouveaux_entrants"] == 6
    assert line["premiers_rdv_dans_le_delai"] == 1


def test_a_2025_entry_is_read_under_the_2025_rules_unless_asked(episodes: list[Suivi]) -> None:
    y2025 = annee(2025)
    # P9: flux 2025-02-03, oriented 03-10: 35 days
    assert only(table31(episodes, y2025, None, EN_VIGUEUR).lignes)["orientes_dans_le_delai"] == 1
    old = table31(episodes, y2025, None, Choix(REGLEMENT, "strategie-2018"))
    assert only(old.lignes)["orientes_dans_le_delai"] == 0
    assert only(old.lignes)["nouveaux_entrants"] == 1


def test_table31_by_territory(episodes: list[Suivi]) -> None:
    t = table31(episodes, Y2024, "territoire", EN_VIGUEUR)
    assert [c.nom for c in t.colonnes][:2] == ["territoire", "nouveaux_entrants"]
    assert t.lignes == [
        # P8
        {"territoire": "35238", "nouveaux_entrants": 1, "orientes_dans_le_delai": 1,
         "premiers_rdv": 0, "premiers_rdv_dans_le_delai": 0, "premiers_cer": 0,
         "premiers_cer_dans_le_delai": 0},
        # P3, P4
        {"territoire": "77001", "nouveaux_entrants": 2, "orientes_dans_le_delai": 1,
         "premiers_rdv": 1, "premiers_rdv_dans_le_delai": 0, "premiers_cer": 1,
         "premiers_cer_dans_le_delai": 0},
        # P1, P2, P7
        {"territoire": "94028", "nouveaux_entrants": 3, "orientes_dans_le_delai": 1,
         "premiers_rdv": 1, "premiers_rdv_dans_le_delai": 1, "premiers_cer": 1,
         "premiers_cer_dans_le_delai": 1},
        # P5's first RDV
        {"territoire": "94046", "nouveaux_entrants": 0, "orientes_dans_le_delai": 0,
         "premiers_rdv": 1, "premiers_rdv_dans_le_delai": 0, "premiers_cer": 0,
         "premiers_cer_dans_le_delai": 0},
    ]  # fmt: skip


def test_table31_by_month_counts_entrants_in_their_flux_month(episodes: list[Suivi]) -> None:
    t = table31(episodes, Y2024, "mois", EN_VIGUEUR)
    entrants = {line["mois"]: line["nouveaux_entrants"] for line in t.lignes}
    assert entrants == {
        "2024-01": 1,  # P1 (flux 01-12); P5's first RDV planned in January adds no entrant
        "2024-02": 1,  # P8
        "2024-03": 1,  # P2
        "2024-06": 1,  # P3
        "2024-10": 1,  # P7
        "2024-11": 1,  # P4
    }


def test_drees_at_31_december(episodes: list[Suivi]) -> None:
    t = drees(episodes, 2024, None)
    assert only(t.lignes) == {
        # open, not suspended, bound on 31/12: P1 P2 P3 P4 P5 P7 P8 (P6 suspended on 12-01)
        "soumis_droits_devoirs": 7,
        "orientes": 5,  # P1 P2 P3 P5 P8
        "primo_orientes": 4,  # P5 was réoriented
        "primo_orientes_spe": 2,  # P2, P8 (France Travail)
        "primo_orientes_hors_spe": 2,  # P1 (CCAS), P3 (AAVE)
        "entrants_primo_orientes": 4,  # P1 P2 P3 P8 entered in 2024
        # entry → orientation: P1 01-10→02-05 26, P2 03-01→04-10 40, P3 06-03→06-20 17,
        # P8 02-01→03-01 29: 112 / 4 = 28
        "delai_moyen_orientation": 28,
        # outside France Travail with a first CER in force on 31/12: P3 (P1's is a renewal)
        "avec_premier_cer": 1,
        "delai_moyen_cer": 82,  # 06-20 → 09-10
        "reorientations_spe_vers_hors_spe": 1,  # P6, France Travail → département
        "reorientations_hors_spe_vers_spe": 0,  # P5 went from département to AAVE: both hors SPE
    }


def test_drees_refuses_a_monthly_breakdown(episodes: list[Suivi]) -> None:
    with pytest.raises(ValueError, match="par"):
        drees(episodes, 2024, "mois")


def test_rates_and_delays(episodes: list[Suivi]) -> None:
    t = taux_et_delais(episodes, Y2024, None, EN_VIGUEUR)
    assert only(t.lignes) == {
        "soumis_droits_devoirs": 7,
        "orientes": 5,
        "taux_orientation": 71.4,  # 5 / 7
        # first orientations in 2024, days from the flux: P1 24, P2 37, P3 15, P8 28
        "orientations": 4,
        "orientations_dans_le_delai": 3,
        "taux_orientation_dans_le_delai": 75.0,
        "delai_orientation_moyen": 26,  # 104 / 4
        "delai_orientation_median": 26.0,  # (24 + 28) / 2
        "delai_orientation_p90": 37,  # nearest rank: ceil(0.9 × 4) = 4th of 15 24 28 37
        # oriented where a contract is due: P1 (social), P3 and P5 (AAVE); not France Travail
        "orientes_contrat_attendu": 3,
        "sous_contrat": 2,  # P1 (renewal to 2025-09-19), P3; P5's ended 10-19
        "taux_contractualisation": 66.7,
        # first contracts signed in 2024: P1 44 days (02-05→03-20) ✓, P3 82 ✗, P5 19 (04-01→04-20) ✓
        "premiers_contrats": 3,
        "premiers_contrats_dans_le_delai": 2,
        "delai_contractualisation_moyen": 48,  # 145 / 3 = 48.3
        "delai_contractualisation_median": 44,
        "delai_contractualisation_p90": 82,
    }


def test_rates_by_month_take_the_stock_at_each_month_end(episodes: list[Suivi]) -> None:
    t = taux_et_delais(episodes, annee(2024), "mois", EN_VIGUEUR)
    by_month = {line["mois"]: line for line in t.lignes}
    # 31 January: P1 (entered 01-10, not yet oriented), P5 (oriented), P6 (France Travail)
    assert by_month["2024-01"]["soumis_droits_devoirs"] == 3
    assert by_month["2024-01"]["orientes"] == 2
    # P1's orientation is counted in February, 24 days after its flux
    assert by_month["2024-02"]["orientations"] == 1
    assert by_month["2024-02"]["delai_orientation_moyen"] == 24


def test_aave_indicators(episodes: list[Suivi]) -> None:
    t = indicateurs_aave(episodes, Y2024, {"aave-1": 0.5})
    assert only(t.lignes) == {
        "structure": "aave-1",
        "etp": 0.5,
        "file_active": 2,  # P3, P5 oriented to aave-1 on 31/12
        "file_active_par_etp": 4.0,
        "file_active_atteinte": False,
        # P3's three RDV and P5's one at aave-1 (P5's January RDV was at mds-1)
        "rdv_planifies": 4,
        "rdv_par_mois": 0.3,
        "rdv_par_etp_par_mois": 0.7,  # 4 / 0.5 / 12
        "rdv_atteint": False,
        "intervalle_moyen_rdv": 20.5,  # P3: 07-10 → 08-20 is 41 days over 2 gaps
        "intervalle_atteint": True,
        "absenteisme": 25.0,  # 1 missed of 4 resolved (3 seen)
        "absenteisme_atteint": True,
        "taux_referencement": 100.0,
        "referencement_atteint": True,
        "taux_contractualisation": 50.0,  # P3 under contract, P5's ended
        "contractualisation_atteinte": False,
        "orientes_dans_la_periode": 2,  # P3 06-20, P5 04-01
        "contrats_dans_le_mois": 1,  # P5 04-20 ≤ 05-01; P3 09-10 > 07-20
        "part_contrats_dans_le_mois": 50.0,
        "contrat_dans_le_mois_atteint": False,
        "toutes_valeurs_atteintes": False,
    }


def test_aave_without_etp_leaves_per_post_values_open(episodes: list[Suivi]) -> None:
    line = only(indicateurs_aave(episodes, Y2024, {}).lignes)
    assert line["rdv_par_etp_par_mois"] is None
    assert line["rdv_atteint"] is None
    assert line["toutes_valeurs_atteintes"] is False


def test_complementary_indicators(episodes: list[Suivi]) -> None:
    t = complementaires(episodes, Y2024, None, EN_VIGUEUR)
    assert only(t.lignes) == {
        "accompagnements_globaux": 1,  # P8
        "accompagnements_demarres": 1,
        "demarres_dans_le_delai": 1,  # 03-01 → 03-18: 17 days ≤ 21
        "delai_demarrage_moyen": 17,
        "delai_demarrage_median": 17,
        "delai_demarrage_p90": 17,
        "entrants": 6,
        "convoques": 3,  # P1 (02-10), P4 (11-28), P8 (03-05)
        "convoques_dans_le_delai": 1,  # P4: 11-28 ≤ 11-21 + 15 days
        "taux_convocation_dans_le_delai": 16.7,
        "sanctions": 2,
        "sanctions_reduction": 1,  # P5
        "sanctions_suspension": 1,  # P3
        "sanctions_suspension_remobilisation": 0,
        "sanctions_radiation": 0,
    }


def test_worklist_on_new_years_eve() -> None:
    today = date(2024, 12, 31)
    people = departement()
    found = {
        (name, a.motif, a.echeance, a.depuis, a.jours)
        for name, person in people.items()
        for s in suivre(person.events)
        for a in alertes(s, today, REGLEMENT.en_vigueur(s.date_flux))
    }
    assert found == {
        # last RDV 02-15: due again by 04-15
        ("P1", Motif.SANS_RDV, date(2024, 4, 15), date(2024, 4, 16), 259),
        ("P2", Motif.CER_ECHU, date(2024, 11, 30), date(2024, 12, 1), 30),
        ("P3", Motif.SANS_RDV, date(2024, 10, 20), date(2024, 10, 21), 71),
        # flux 11-21: to be oriented by 12-21
        ("P4", Motif.ORIENTATION_EN_RETARD, date(2024, 12, 21), date(2024, 12, 22), 9),
        ("P4", Motif.RDV_SANS_ISSUE, date(2024, 12, 5), date(2024, 12, 6), 25),
        ("P5", Motif.CER_ECHU, date(2024, 10, 19), date(2024, 10, 20), 72),
        ("P5", Motif.SANS_RDV, date(2024, 7, 10), date(2024, 7, 11), 173),
        # réoriented to social on 08-01: first RDV by 08-15, contract by 10-01
        ("P6", Motif.PREMIER_RDV_EN_RETARD, date(2024, 8, 15), date(2024, 8, 16), 137),
        ("P6", Motif.CER_EN_RETARD, date(2024, 10, 1), date(2024, 10, 2), 90),
        # re-entry, flux 10-02: to be oriented by 11-02
        ("P7", Motif.ORIENTATION_EN_RETARD, date(2024, 11, 2), date(2024, 11, 3), 58),
    }


def test_a_contract_ending_soon_shows_30_days_ahead() -> None:
    p1 = suivre(departement()["P1"].events)[0]
    regle = REGLEMENT.par_nom("strategie-2018")
    # the renewal ends 2025-09-19: shown from 08-20 on
    assert Motif.CER_BIENTOT_ECHU not in {a.motif for a in alertes(p1, date(2025, 8, 19), regle)}
    soon = [a for a in alertes(p1, date(2025, 8, 20), regle) if a.motif is Motif.CER_BIENTOT_ECHU]
    assert [(a.echeance, a.depuis, a.jours) for a in soon] == [
        (date(2025, 9, 19), date(2025, 8, 20), 0)
    ]


def test_summary_statistics() -> None:
    assert moyenne([1, 2]) == 2  # 1.5 rounds half to even
    assert moyenne([]) is None
    assert mediane([3, 1, 2]) == 2
    assert centile_90(list(range(1, 11))) == 9
    assert centile_90([5]) == 5


def test_period_months() -> None:
    p = Periode(date(2024, 1, 15), date(2024, 3, 10))
    assert p.fins_de_mois() == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 10)]
    assert p.nb_mois == 3


def test_mean_etp_over_a_period_is_weighted_by_the_days_each_declaration_held() -> None:
    """AAVE per-ETP values divide by the structure's mean ETP over the period: 2 ETP from
    1 January, 3 from 1 July (declared later), nothing declared before 2024 for the other."""
    meta = Meta(recorded_at=datetime(2024, 1, 2, tzinfo=UTC), recorded_by="f", request_id="s")

    def declared(sid: str, since: date, etp: float | None) -> StructureDeclaree:
        return StructureDeclaree(
            effective_on=since,
            meta=meta,
            structure_id=sid,
            nom=sid,
            type_organisme=TypeOrganisme.AAVE,
            etp=etp,
        )

    registry = StructureRegistry(
        [
            declared("a", date(2024, 1, 1), 2.0),
            declared("a", date(2024, 7, 1), 3.0),
            declared("b", date(2024, 3, 1), 1.0),
        ]
    )
    # 2024: 182 days at 2 (1 Jan - 30 Jun), 184 days at 3 (1 Jul - 31 Dec), over 366 days.
    assert registry.etp_moyen("a", date(2024, 1, 1), date(2024, 12, 31)) == pytest.approx(
        (182 * 2 + 184 * 3) / 366
    )
    assert registry.etp_moyen("a", date(2024, 1, 1), date(2024, 3, 31)) == 2.0
    # b: 31 days of March at 1 over the quarter's 91 days; nothing before its declaration.
    assert registry.etp_moyen("b", date(2024, 1, 1), date(2024, 3, 31)) == pytest.approx(31 / 91)
    assert registry.etp_moyen("b", date(2024, 1, 1), date(2024, 2, 29)) is None
    assert registry.etp_moyen("inconnue", date(2024, 1, 1), date(2024, 2, 29)) is None
