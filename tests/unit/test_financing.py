"""Pricing, statements and simulations as pure functions over the hand-built département
(tests/finance_history.py): every expected euro is written here, computed by hand."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from adapters.schedule_files import read_schedule, shipped
from domain.payments import Etape, Etat, Ligne
from domain.structures import StructureRegistry
from domain.tariffs import (
    Adoption,
    Bareme,
    EnVigueur,
    Options,
    Simule,
    TariffError,
    decode_bareme,
)
from domain.vocabulary import TypeOrganisme, TypeSortie
from projections.activity import activite
from projections.indicateurs import Periode
from projections.pricing import StructureNonDeclaree, non_declarees, price, total
from projections.statements import bornes, comparer, etablir
from tests.delais_history import SOCIALE
from tests.finance_history import (
    CCAS,
    Allocataire,
    D,
    aave_2022,
    annee_2021,
    annee_2022,
    everyone,
    registry,
    structures,
)

SHIPPED = shipped()
VDM_2018 = SHIPPED["val-de-marne-2018-2021"]
VDM_2022 = SHIPPED["val-de-marne-2022"]
AAVE_77 = SHIPPED["seine-et-marne-aave-2022"]
Y2021 = Periode(D(2021, 1, 1), D(2021, 12, 31))
Y2022 = Periode(D(2022, 1, 1), D(2022, 12, 31))


def adoption(version: int, bareme: Bareme) -> Adoption:
    return Adoption(
        version=version,
        bareme=bareme,
        empreinte=bareme.empreinte(),
        motif="test",
        adopte_le=datetime(2022, 1, 1, tzinfo=UTC),
        adopte_par="finance-1",
    )


def in_force(*baremes: Bareme) -> EnVigueur:
    return EnVigueur(adoption(i, b) for i, b in enumerate(baremes, 1))


ALL = in_force(VDM_2018, VDM_2022, AAVE_77)
VDM = in_force(VDM_2018, VDM_2022)


def lines_of(
    people: dict[str, Allocataire],
    tarification: EnVigueur | Simule = VDM,
    periode: Periode = Y2022,
    reg: StructureRegistry | None = None,
) -> list[Ligne]:
    dossiers = [activite(p.events) for p in people.values()]
    suivis = [s for d in dossiers if d.activite.aave for s in d.suivi]
    return price([d.activite for d in dossiers], tarification, reg or registry(), periode, suivis)


def by_partner(lines: Sequence[Ligne]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        out[line.partenaire] = out.get(line.partenaire, 0) + line.montant
    return out


def amounts(lines: Sequence[Ligne], case: int) -> list[tuple[str, str, int]]:
    return [
        (line.etape.value, line.reference, line.montant)
        for line in lines
        if line.case_id == UUID(int=case)
    ]


def with_options(bareme: Bareme, **options: str) -> Bareme:
    return msgspec.structs.replace(bareme, options=msgspec.structs.replace(Options(), **options))


# --- the shipped schedules ------------------------------------------------------------------


def test_val_de_marne_2018_2021_over_2021() -> None:
    lines = lines_of(everyone(), periode=Y2021)
    assert by_partner(lines) == {"ccas-a": 974_00, "asso-b": 1_100_00}
    assert amounts(lines, 101) == [("cer", "cer-1", 400_00), ("cer", "cer-2", 400_00)]
    assert amounts(lines, 102) == [("cer", "cer-1", 450_00)]
    assert sorted(amounts(lines, 103)) == [("asc", "asc-2021", 150_00), ("asc", "asc-2021", 450_00)]
    assert amounts(lines, 104) == [("eio", "eio-1", 24_00)]  # the association's EIO is not paid
    eio = next(line for line in lines if line.etape is Etape.EIO)
    assert eio.regle == "val-de-marne-2018-2021@v1/ccas/eio"
    assert eio.evenements == [2, 3]  # the RDV planned and its outcome


def test_val_de_marne_2022_over_2022() -> None:
    lines = lines_of(annee_2022(), VDM)
    assert by_partner(lines) == {"ccas-a": 550_00, "asso-b": 1_300_00}
    assert sorted(amounts(lines, 201)) == [
        ("bonus_premier_entretien", "cer-1", 50_00),
        ("bonus_sortie_positive", "sortie-2022", 100_00),
        ("cer", "cer-1", 400_00),
    ]
    # First interview late (04-15, due by 03-04): no bonus; exit bonus on the renewed contract.
    assert sorted(amounts(lines, 202)) == [
        ("bonus_sortie_positive", "sortie-2022", 100_00),
        ("cer", "cer-1", 500_00),
        ("cer", "cer-2", 500_00),
    ]
    assert amounts(lines, 204) == []  # EIO abolished in 2022
    bonus = next(line for line in lines if line.etape is Etape.BONUS_PREMIER_ENTRETIEN)
    assert bonus.evenements == [1, 3, 4, 5]  # entry, first RDV planned and seen, the CER
    assert "2022-03-05" in bonus.detail


def test_a_contract_signed_in_2021_is_paid_under_2021_rules_even_if_its_exit_is_in_2022() -> None:
    person = (
        Allocataire(401, "94028")
        .entre(D(2021, 11, 2), D(2021, 11, 3))
        .oriente(D(2021, 11, 10), SOCIALE, CCAS, "ccas-a")
        .vu(D(2021, 11, 12), D(2021, 11, 20))
        .cer(D(2021, 12, 1), 12)
        .sortie(D(2022, 3, 1), TypeSortie.EMPLOI_CDI)
    )
    lines = lines_of({"p": person}, periode=Periode(D(2021, 1, 1), D(2022, 12, 31)))
    assert amounts(lines, 401) == [("cer", "cer-1", 400_00)]


def test_seine_et_marne_aave_subsidy_and_bonus() -> None:
    lines = lines_of(aave_2022(), ALL)
    assert by_partner(lines) == {"aave-c": 3_025_00, "aave-d": 2_750_00}
    c = [(x.etape.value, x.le, x.montant) for x in lines if x.partenaire == "aave-c"]
    assert c == [
        ("subvention_aave", D(2022, 1, 1), 2_750_00),
        ("bonus_aave", D(2022, 12, 31), 275_00),
    ]


def test_aave_etp_redeclared_mid_year_is_day_weighted_and_the_bonus_is_lost() -> None:
    later = msgspec.structs.replace(structures()[2], effective_on=D(2022, 7, 1), etp=0.10)
    reg = StructureRegistry([*structures(), later])
    assert reg.etp_on("aave-c", D(2022, 6, 30)) == 0.05
    assert reg.etp_on("aave-c", D(2022, 7, 1)) == 0.10
    lines = lines_of(aave_2022(), ALL, reg=reg)
    # 0.05 × 181 days + 0.10 × 184 days = 27.45 ETP-days / 365 = 0.075205… ETP
    # 55 000 € × 0.075205… = 4 136.30 €; 36 RDV / 0.0752 ETP / 12 = 39.9 < 60: no bonus.
    assert by_partner(lines)["aave-c"] == 4_136_30


def test_aave_cap_per_etp() -> None:
    capped = msgspec.structs.replace(
        AAVE_77,
        tarifs={
            TypeOrganisme.AAVE: msgspec.structs.replace(
                AAVE_77.tarifs[TypeOrganisme.AAVE], plafond_etp=Decimal(58_000)
            )
        },
    )
    lines = lines_of(aave_2022(), in_force(capped))
    # 2 750 € + 10 % would be 3 025 €; the cap is 58 000 × 0.05 = 2 900 €.
    assert by_partner(lines) == {"aave-c": 2_900_00, "aave-d": 2_750_00}


# --- the options for silent cases -------------------------------------------------------------


def test_six_month_cer_full_price_by_default_or_pro_rata() -> None:
    people = {"A2": annee_2021()["A2"]}
    assert amounts(lines_of(people, periode=Y2021), 102) == [("cer", "cer-1", 450_00)]
    prorata = in_force(with_options(VDM_2018, cer_court="prorata"))
    lines = lines_of(people, prorata, Y2021)
    assert amounts(lines, 102) == [("cer", "cer-1", 225_00)]  # 450 × 6 / 12
    assert lines[0].regle == "val-de-marne-2018-2021@v1/association/cer_prorata"


def test_asc_straddling_two_years_calendar_or_accompaniment_year() -> None:
    people = {"B3": annee_2022()["B3"]}
    both = Periode(D(2021, 1, 1), D(2022, 12, 31))
    calendar_years = lines_of(people, periode=both)
    assert [(x.reference, x.le, x.montant) for x in calendar_years] == [
        ("asc-2021", D(2021, 10, 1), 200_00),
        ("asc-2022", D(2022, 1, 10), 200_00),
    ]
    accompaniment = in_force(
        with_options(VDM_2018, annee_asc="accompagnement"),
        with_options(VDM_2022, annee_asc="accompagnement"),
    )
    one_year = lines_of(people, accompaniment, both)
    # Six interviews from 2021-10-01 to 2022-03-10, within 12 months of the first: one year of
    # accompaniment at the 5+ tier, under the grid in force on its first interview (2018-2021).
    assert [(x.reference, x.du, x.au, x.montant) for x in one_year] == [
        ("asc-2021-10-01", D(2021, 10, 1), D(2022, 9, 30), 450_00)
    ]
    assert one_year[0].regle == "val-de-marne-2018-2021@v1/association/asc_5"


def _renewed_in_time() -> Allocataire:
    return (
        Allocataire(402, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 5))
        .oriente(D(2022, 1, 10), SOCIALE, CCAS, "ccas-a")
        .vu(D(2022, 1, 12), D(2022, 1, 20))
        .cer(D(2022, 2, 1), 6)
        .cer(D(2022, 7, 25), 6, renewal=True, start=D(2022, 8, 1))
    )


def test_first_interview_bonus_on_creation_or_on_each_contract() -> None:
    people = {"p": _renewed_in_time()}
    assert sorted(amounts(lines_of(people), 402)) == [
        ("bonus_premier_entretien", "cer-1", 50_00),
        ("cer", "cer-1", 400_00),
        ("cer", "cer-2", 400_00),
    ]
    each = in_force(with_options(VDM_2022, bonus_premier_entretien="chaque_contrat"))
    assert sorted(amounts(lines_of(people, each), 402)) == [
        ("bonus_premier_entretien", "cer-1", 50_00),
        ("bonus_premier_entretien", "cer-2", 50_00),
        ("cer", "cer-1", 400_00),
        ("cer", "cer-2", 400_00),
    ]


def test_renewals_unpaid_when_the_kind_does_not_pay_them() -> None:
    tarifs = {
        k: msgspec.structs.replace(v, cer_renouvellement=False) for k, v in VDM_2022.tarifs.items()
    }
    grid = in_force(msgspec.structs.replace(VDM_2022, tarifs=tarifs))
    assert sorted(amounts(lines_of({"p": _renewed_in_time()}, grid), 402)) == [
        ("bonus_premier_entretien", "cer-1", 50_00),
        ("cer", "cer-1", 400_00),
    ]


def test_cap_per_contract_cuts_the_bonuses() -> None:
    ccas = msgspec.structs.replace(VDM_2022.tarifs[CCAS], plafond_contrat=Decimal(420))
    grid = in_force(msgspec.structs.replace(VDM_2022, tarifs={CCAS: ccas}))
    assert sorted(amounts(lines_of({"B1": annee_2022()["B1"]}, grid), 201)) == [
        ("bonus_premier_entretien", "cer-1", 20_00),
        ("bonus_sortie_positive", "sortie-2022", 0),
        ("cer", "cer-1", 400_00),
    ]


def test_positive_exit_bonus_at_most_once_a_year() -> None:
    person = (
        Allocataire(403, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 4))
        .oriente(D(2022, 1, 10), SOCIALE, CCAS, "ccas-a")
        .cer(D(2022, 3, 1), 6)
        .sortie(D(2022, 5, 2), TypeSortie.EMPLOI_CDI)
        .rouvert(D(2022, 6, 1), D(2022, 6, 2))
        .oriente(D(2022, 6, 10), SOCIALE, CCAS, "ccas-a")
        .cer(D(2022, 7, 1), 6)
        .sortie(D(2022, 11, 2), TypeSortie.CREATION_ENTREPRISE)
    )
    lines = lines_of({"p": person})
    assert sorted(amounts(lines, 403)) == [
        ("bonus_sortie_positive", "sortie-2022", 100_00),
        ("cer", "cer-1", 400_00),
        ("cer", "cer-2", 400_00),
    ]


def test_a_cancelled_step_is_no_longer_priced() -> None:
    b1 = annee_2022()["B1"]
    b1.annule(D(2022, 9, 20), 6)  # the exit (v6) was keyed on the wrong case
    assert sorted(amounts(lines_of({"B1": b1}), 201)) == [
        ("bonus_premier_entretien", "cer-1", 50_00),
        ("cer", "cer-1", 400_00),
    ]


def test_unknown_structures_and_unpaid_kinds_are_not_priced() -> None:
    person = (
        Allocataire(404, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 4))
        .oriente(D(2022, 1, 10), SOCIALE, TypeOrganisme.DEPARTEMENT, "mds-1")
        .cer(D(2022, 3, 1), 12)
        .asc(D(2022, 4, 1), "ccas-inconnu")
    )
    assert lines_of({"p": person}) == []


def test_structures_not_declared_are_named_with_the_facts_left_unpriced() -> None:
    """The département's own services are declared (and never paid): not reported; a
    structure missing from the registry is, for the facts dated in the period only."""
    person = (
        Allocataire(405, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 4))
        .eio(D(2022, 1, 6), "ccas-x")
        .oriente(D(2022, 1, 10), SOCIALE, TypeOrganisme.CCAS, "ccas-x")
        .cer(D(2022, 3, 1), 12)
        .cer(D(2022, 12, 20), 6, renewal=True, start=D(2023, 3, 1))
        .asc(D(2022, 4, 1), "asso-y")
        .asc(D(2023, 1, 5), "asso-y")
    )
    other = (
        Allocataire(406, "94028")
        .entre(D(2022, 1, 3), D(2022, 1, 4))
        .oriente(D(2022, 1, 10), SOCIALE, TypeOrganisme.DEPARTEMENT, "mds-1")
        .cer(D(2022, 3, 1), 12)
    )
    facts = [activite(p.events).activite for p in (person, other)]
    assert non_declarees(facts, registry(), Y2022) == [
        StructureNonDeclaree(structure_id="asso-y", contrats=0, entretiens_asc=1, eio=0, faits=1),
        StructureNonDeclaree(structure_id="ccas-x", contrats=2, entretiens_asc=0, eio=1, faits=3),
    ]
    first_half = Periode(D(2022, 1, 1), D(2022, 6, 30))
    assert [(s.structure_id, s.faits) for s in non_declarees(facts, registry(), first_half)] == [
        ("asso-y", 1),
        ("ccas-x", 2),
    ]
    assert non_declarees(facts, registry(), Periode(D(2021, 1, 1), D(2021, 12, 31))) == []


# --- which schedule is in force -------------------------------------------------------------


def test_latest_adoption_wins_per_kind_of_structure() -> None:
    revised = msgspec.structs.replace(
        VDM_2022,
        version=2,
        tarifs={CCAS: msgspec.structs.replace(VDM_2022.tarifs[CCAS], cer=Decimal(420))},
    )
    book = in_force(VDM_2018, VDM_2022, revised)
    assert book.pour(D(2022, 5, 1), CCAS) is revised
    assert book.pour(D(2022, 5, 1), TypeOrganisme.ASSOCIATION) is VDM_2022  # not in the revision
    assert book.pour(D(2021, 5, 1), CCAS) is VDM_2018
    assert book.pour(D(2017, 5, 1), CCAS) is None
    lines = lines_of(annee_2022(), book)
    # B1 under the revision: 420 + 50, and the exit bonus cut to 80 by the 550 € cap.
    assert sorted(amounts(lines, 201)) == [
        ("bonus_premier_entretien", "cer-1", 50_00),
        ("bonus_sortie_positive", "sortie-2022", 80_00),
        ("cer", "cer-1", 420_00),
    ]
    assert by_partner(lines) == {"ccas-a": 550_00, "asso-b": 1_300_00}


def test_a_simulation_applies_the_candidate_to_every_date_of_the_period() -> None:
    sim = Simule(VDM_2022, ALL)
    assert sim.pour(D(2021, 3, 1), CCAS) is VDM_2022
    # Kinds the candidate does not price stay under the schedules in force.
    assert sim.pour(D(2021, 3, 1), TypeOrganisme.AAVE) is None
    assert sim.pour(D(2022, 3, 1), TypeOrganisme.AAVE) is AAVE_77
    lines = lines_of(everyone(), sim, Y2021)
    # 2021 activity under the 2022 grid. ccas-a: A1 cer-1 400 + 50 (first RDV 02-01, flux
    # received 01-06, due by 03-06) + renewal 400, A3 ASC 150, A4 EIO no longer paid = 1 000 €.
    # asso-b: A2 500, A3 ASC (5) 450, B3 ASC 2021 (3) 200 = 1 150 €.
    assert by_partner(lines) == {"ccas-a": 1_000_00, "asso-b": 1_150_00}


# --- schedule documents -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ('nom = "x"\ndu = 2022-01-01\n[tarifs.ccas]\ncer = "abc"\n', "tarifs.ccas.cer"),
        ('nom = "x"\ndu = 2022-01-01\n[tarifs.ccas]\ncer = 12.345\n', "tarifs.ccas.cer"),
        ('nom = "x"\n[tarifs.ccas]\ncer = 1\n', "du"),
        ('nom = "x"\ndu = 2022-01-01\n[tarifs.bidule]\ncer = 1\n', "tarifs.bidule"),
        ('nom = "x"\ndu = 2022-01-01\nau = 2021-01-01\n[tarifs.ccas]\ncer = 1\n', "au"),
        (
            'nom = "x"\ndu = 2022-01-01\n[options]\ncer_court = "moitie"\n[tarifs.ccas]\ncer = 1\n',
            "options.cer_court",
        ),
        (
            'nom = "x"\ndu = 2022-01-01\n[tarifs.ccas]\n'
            "asc = [{a_partir_de = 5, montant = 1}, {a_partir_de = 1, montant = 2}]\n",
            "tarifs.ccas.asc",
        ),
        ('nom = "x"\ndu = 2022-01-01\n[tarifs.ccas]\nplafond = 1\n', "tarifs.ccas.plafond"),
        ("nom = [", "bareme"),
    ],
)
def test_an_invalid_schedule_names_the_field(document: str, field: str) -> None:
    with pytest.raises(TariffError) as e:
        decode_bareme(document.encode(), "toml")
    assert e.value.field == field


def test_an_invalid_schedule_file_names_the_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "mauvais.toml"
    path.write_text('nom = "x"\ndu = 2022-01-01\n[tarifs.ccas]\ncer = -4\n')
    with pytest.raises(TariffError, match=r"mauvais\.toml: tarifs\.ccas\.cer"):
        read_schedule(path)


def test_shipped_schedules_and_their_defaults() -> None:
    assert sorted(SHIPPED) == [
        "seine-et-marne-aave-2022",
        "val-de-marne-2018-2021",
        "val-de-marne-2022",
    ]
    assert VDM_2022.options == Options(
        cer_court="plein_tarif", annee_asc="civile", bonus_premier_entretien="creation"
    )
    assert VDM_2022.du == D(2022, 1, 1)
    assert VDM_2022.au is None
    assert VDM_2018.au == D(2021, 12, 31)
    # The JSON form of a document decodes to the same schedule.
    again = decode_bareme(msgspec.json.encode(VDM_2022), "json")
    assert again == VDM_2022
    assert again.empreinte() == VDM_2022.empreinte()


# --- statements ---------------------------------------------------------------------------------


def _issued(draft: Etat) -> Etat:
    return msgspec.structs.replace(
        draft, statut="emis", emis_le=datetime(2022, 4, 5, tzinfo=UTC), emis_par="finance-1"
    )


def test_statement_adjusts_an_issued_line_whose_step_was_cancelled() -> None:
    b1 = annee_2022()["B1"]
    lines = lines_of({"B1": b1}, periode=Periode(D(2022, 1, 1), D(2022, 9, 30)))
    q1 = etablir("ccas-a", CCAS, "2022-T1", lines, [], 10, [])
    assert (q1.total_lignes, q1.total_ajustements, q1.total) == (450_00, 0, 450_00)
    q3 = etablir("ccas-a", CCAS, "2022-T3", lines, [_issued(q1)], 11, [])
    assert [x.etape for x in q3.lignes] == [Etape.BONUS_SORTIE_POSITIVE]
    assert q3.total == 100_00
    # The CER (v5) is cancelled after Q1 and Q3 were issued: Q4 takes the 450 € back.
    b1.annule(D(2022, 10, 3), 5)
    after = lines_of({"B1": b1}, periode=Periode(D(2022, 1, 1), D(2022, 12, 31)))
    q4 = etablir("ccas-a", CCAS, "2022-T4", after, [_issued(q1), _issued(q3)], 12, [])
    assert q4.lignes == []
    assert [(a.etape, a.motif, a.montant_emis, a.montant) for a in q4.ajustements] == [
        (Etape.BONUS_PREMIER_ENTRETIEN, "annulee", 50_00, -50_00),
        (Etape.BONUS_SORTIE_POSITIVE, "annulee", 100_00, -100_00),
        (Etape.CER, "annulee", 400_00, -400_00),
    ]
    assert q4.total == -550_00
    assert q4.ajustements[2].etats == ["ccas-a/2022-T1"]


def test_statement_shows_a_late_line_of_a_period_already_stated() -> None:
    b1 = annee_2022()["B1"]
    early = lines_of({"B1": b1}, periode=Periode(D(2022, 1, 1), D(2022, 1, 31)))
    january = etablir("ccas-a", CCAS, "2022-01", early, [], 3, [])
    assert january.total == 0
    later = lines_of({"B1": b1}, periode=Periode(D(2022, 1, 1), D(2022, 3, 31)))
    # February was never stated: its lines are new lines of the Feb statement, not late ones.
    march = etablir("ccas-a", CCAS, "2022-03", later, [_issued(january)], 9, [])
    assert march.lignes == []
    assert march.ajustements == []
    feb = etablir("ccas-a", CCAS, "2022-02", later, [_issued(january)], 9, [])
    assert feb.total == 450_00
    # A 4 € line dated in January appearing after January was issued: a late adjustment.
    late = msgspec.structs.replace(
        later[0], etape=Etape.EIO, reference="eio-9", le=D(2022, 1, 15), montant=4_00
    )
    march = etablir(
        "ccas-a", CCAS, "2022-03", [*later, late], [_issued(january), _issued(feb)], 9, []
    )
    assert [(a.motif, a.montant) for a in march.ajustements] == [("tardive", 4_00)]


def test_statement_periods() -> None:
    assert bornes("2022") == (D(2022, 1, 1), D(2022, 12, 31))
    assert bornes("2022-T1") == (D(2022, 1, 1), D(2022, 3, 31))
    assert bornes("2024-02") == (D(2024, 2, 1), D(2024, 2, 29))
    for bad in ("2022-13", "2022-T5", "22", "2022-1", "abcd"):
        with pytest.raises(ValueError, match="période"):
            bornes(bad)


# --- simulations --------------------------------------------------------------------------------


def test_simulation_of_the_2022_schedule_over_2021_activity() -> None:
    people = everyone()
    actual = lines_of(people, ALL, Y2021)
    candidate = lines_of(people, Simule(VDM_2022, ALL), Y2021)
    sim = comparer(Y2021.du, Y2021.au, actual, candidate, "val-de-marne-2022@v1", [], 0)
    assert (sim.actuel, sim.simule, sim.ecart) == (2_074_00, 2_150_00, 76_00)
    assert [(e.groupe, e.actuel, e.simule, e.ecart) for e in sim.par_partenaire] == [
        ("asso-b", 1_100_00, 1_150_00, 50_00),
        ("ccas-a", 974_00, 1_000_00, 26_00),
    ]
    assert sum(e.ecart for e in sim.par_partenaire) == sim.ecart
    assert sum(e.ecart for e in sim.par_etape) == sim.ecart
    assert sum(x.ecart for x in sim.lignes_modifiees) == sim.ecart
    assert total(candidate) == sim.simule
    steps = {e.groupe: e.ecart for e in sim.par_etape}
    # CER: A1 2 × 400 unchanged, A2 450 → 500; bonus: A1's first interview in time +50;
    # EIO: -24; ASC unchanged (150, 450, 200).
    assert steps == {"asc": 0, "bonus_premier_entretien": 50_00, "cer": 50_00, "eio": -24_00}
    assert [(x.partenaire, x.etape.value, x.actuel, x.simule) for x in sim.lignes_modifiees] == [
        ("asso-b", "cer", 450_00, 500_00),
        ("ccas-a", "bonus_premier_entretien", 0, 50_00),
        ("ccas-a", "eio", 24_00, 0),
    ]
