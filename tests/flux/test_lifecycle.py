"""Re-imports, overlapping flux, inconsistent households and the rights' life cycle."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.eventlog.reading import read_log
from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from api.services.flux_import import FluxImporter
from domain.events import (
    DroitClos,
    DroitRepris,
    DroitRouvert,
    DroitsDevoirsModifies,
    DroitSuspendu,
    OrientationDecidee,
    Profil,
)
from domain.vocabulary import ModeOrientation, MotifCloture, Sexe, TypeOrganisme, TypeOrientation
from scripts.flux_generator import write
from tests.flux.helpers import FIXTURES, META, clock, events, variant
from tests.integration.test_quarantine import far_cer, under_the_rules_back


@pytest.fixture
def app(settings: Settings) -> Parcours:
    return Parcours(settings, clock=clock(datetime(2022, 6, 1, 9, 0, tzinfo=UTC)))


def test_same_file_twice_adds_nothing(app: Parcours) -> None:
    importer = FluxImporter(app)
    importer.import_file(FIXTURES / "RSABEM.xml")
    before = app.max_position()
    again = importer.import_file(FIXTURES / "RSABEM.xml")
    assert before == 2
    assert app.max_position() == before
    assert (again.evenements_total, again.foyers_inchanges, again.dossiers_crees) == (0, 2, 0)


def test_daily_and_monthly_flux_overlapping_add_nothing_twice(
    app: Parcours, tmp_path: Path
) -> None:
    """A daily flux (households 0-39) and the monthly one (0-99) say the same of the shared
    households: importing one then the other adds only what the first did not hold."""
    args = {"seed": 3, "created": date(2022, 3, 5), "reference": date(2022, 2, 28)}
    daily = tmp_path / "daily.xml"
    monthly = tmp_path / "monthly.xml"
    write(daily, 100, type_flux="I", only=range(40), **args)  # type: ignore[arg-type]
    write(monthly, 100, **args)  # type: ignore[arg-type]
    importer = FluxImporter(app, batch_size=16)
    first = importer.import_file(daily)
    second = importer.import_file(monthly)
    total = app.max_position()
    assert total == first.evenements_total + second.evenements_total
    assert second.foyers_inchanges >= 40
    for path in (daily, monthly):
        assert importer.import_file(path).evenements_total == 0
    assert app.max_position() == total


def test_monthly_then_daily_overlap_adds_nothing(app: Parcours, tmp_path: Path) -> None:
    args = {"seed": 5, "created": date(2022, 3, 5), "reference": date(2022, 2, 28)}
    daily = tmp_path / "daily.xml"
    monthly = tmp_path / "monthly.xml"
    write(monthly, 60, **args)  # type: ignore[arg-type]
    write(daily, 60, type_flux="I", only=range(20, 50), **args)  # type: ignore[arg-type]
    importer = FluxImporter(app)
    assert importer.import_file(monthly).evenements_total > 0
    total = app.max_position()
    rapport = importer.import_file(daily)
    assert (rapport.foyers, rapport.foyers_inchanges, rapport.evenements_total) == (30, 30, 0)
    assert app.max_position() == total


def test_an_inconsistent_household_is_reported_the_rest_imported(
    app: Parcours, tmp_path: Path
) -> None:
    """Household 1 of RSABEM gets an unknown right state (9, valid for the schema): it is
    reported with its line; household 2 is imported as usual."""
    path = variant(
        tmp_path,
        "RSABEM.xml",
        "incoherent.xml",
        ("<ETATDOSRSA>5</ETATDOSRSA>", "<ETATDOSRSA>9</ETATDOSRSA>"),
    )
    rapport = FluxImporter(app).import_file(path)
    assert rapport.statut == "importe"
    assert (rapport.foyers_importes, rapport.foyers_rejetes) == (1, 1)
    assert [(r.ligne, r.foyer) for r in rapport.rejets] == [(13, 1)]
    assert "état du droit inconnu" in rapport.rejets[0].motif
    assert [type(e).__name__ for _, _, e in events(app)] == ["EntreeEnregistree", "DroitSuspendu"]


def test_a_household_a_rule_refuses_is_reported_with_the_rule(
    app: Parcours, tmp_path: Path
) -> None:
    """A closure dated before the entry breaks a path rule: the household is left out."""
    importer = FluxImporter(app)
    importer.import_file(FIXTURES / "RSABEM-ouvert.xml")
    closed = variant(
        tmp_path,
        "RSABEM.xml",
        "closed.xml",
        ("<ETATDOSRSA>4</ETATDOSRSA>", "<ETATDOSRSA>5</ETATDOSRSA>"),
        (
            "<SuspensionVersement>\n\t\t\t\t\t<MOTISUSVERSRSA>06</MOTISUSVERSRSA>\n"
            "\t\t\t\t\t<DDSUSVERSRSA>2021-11-01</DDSUSVERSRSA>\n\t\t\t\t</SuspensionVersement>",
            "<FinDroit><MOTICLORSA>PCG</MOTICLORSA><DTCLORSA>2017-01-31</DTCLORSA></FinDroit>",
        ),
    )
    rapport = importer.import_file(closed)
    assert rapport.foyers_rejetes == 1
    assert rapport.rejets[0].foyer == 2
    assert rapport.rejets[0].motif.startswith("date_anterieure")
    assert app.max_position() == 1


def _ouvert(tmp_path: Path, name: str, *more: tuple[str, str]) -> Path:
    return variant(tmp_path, "RSABEM-ouvert.xml", name, *more)


def test_suspension_resumption_closure_reopening_and_flag(app: Parcours, tmp_path: Path) -> None:
    """One person's rights through five monthly flux."""
    importer = FluxImporter(app)
    importer.import_file(FIXTURES / "RSABEM-ouvert.xml")  # entry
    importer.import_file(FIXTURES / "RSABEM.xml")  # payment suspended since 2021-11-01
    march = ("<DTREF>2022-02-28</DTREF>", "<DTREF>2022-03-31</DTREF>")
    importer.import_file(_ouvert(tmp_path, "march.xml", march))  # payable again
    not_bound = _ouvert(
        tmp_path,
        "april.xml",
        ("<DTREF>2022-02-28</DTREF>", "<DTREF>2022-04-30</DTREF>"),
        ("<TOPPERSDRODEVORSA>1</TOPPERSDRODEVORSA>", "<TOPPERSDRODEVORSA>0</TOPPERSDRODEVORSA>"),
    )
    importer.import_file(not_bound)
    closed = _ouvert(
        tmp_path,
        "may.xml",
        ("<DTREF>2022-02-28</DTREF>", "<DTREF>2022-05-31</DTREF>"),
        (
            "<EtatDossierRSA>\n\t\t\t\t\t<ETATDOSRSA>2</ETATDOSRSA>\n\t\t\t\t</EtatDossierRSA>",
            "<EtatDossierRSA><ETATDOSRSA>5</ETATDOSRSA></EtatDossierRSA>"
            "<FinDroit><MOTICLORSA>PCG</MOTICLORSA><DTCLORSA>2022-05-15</DTCLORSA></FinDroit>",
        ),
    )
    importer.import_file(closed)
    reopened = _ouvert(
        tmp_path,
        "june.xml",
        ("<DTREF>2022-02-28</DTREF>", "<DTREF>2022-05-31</DTREF>"),
        ("<DTDEMRSA>2018-08-06</DTDEMRSA>", "<DTDEMRSA>2022-05-28</DTDEMRSA>"),
        ("<DTCREAFLUX>2022-03-05</DTCREAFLUX>", "<DTCREAFLUX>2022-05-30</DTCREAFLUX>"),
    )
    importer.import_file(reopened)
    written = [(v, e) for _, v, e in events(app)]
    assert [v for v, _ in written] == [1, 2, 3, 4, 5, 6]
    assert [e for _, e in written[1:]] == [
        DroitSuspendu(effective_on=date(2021, 11, 1), meta=META, motif="06"),
        DroitRepris(effective_on=date(2022, 3, 31), meta=META),
        DroitsDevoirsModifies(
            effective_on=date(2022, 4, 30), meta=META, soumis_droits_devoirs=False
        ),
        DroitClos(effective_on=date(2022, 5, 15), meta=META, motif=MotifCloture.RADIATION),
        DroitRouvert(
            effective_on=date(2022, 5, 28),
            meta=META,
            date_flux=date(2022, 5, 30),
            date_reception_flux=date(2022, 6, 1),
            soumis_droits_devoirs=True,
            profil=Profil(sexe=Sexe.F, annee_naissance=1973, code_commune="92044"),
        ),
    ]
    # Old files imported again change nothing: their facts are held or older than the case.
    for old in (FIXTURES / "RSABEM.xml", _ouvert(tmp_path, "march2.xml", march), closed):
        assert importer.import_file(old).evenements_total == 0
    assert app.max_position() == 6


def test_automatic_orientation_on_entry(app: Parcours) -> None:
    """The person is registered at Pôle emploi (IDASSEDIC): professional orientation, marked
    automatic, dated the day the flux is received."""
    FluxImporter(app, orientation_auto=True).import_file(FIXTURES / "RSABEM-ouvert.xml")
    written = [e for _, _, e in events(app)]
    assert written[1] == OrientationDecidee(
        effective_on=date(2022, 6, 1),
        meta=META,
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.FRANCE_TRAVAIL,
        structure_id="france_travail",
        mode=ModeOrientation.AUTOMATIQUE,
    )


def test_a_new_address_updates_the_identity_and_adds_no_event(
    app: Parcours, tmp_path: Path
) -> None:
    importer = FluxImporter(app)
    first = importer.import_file(FIXTURES / "RSABEM-ouvert.xml")
    assert first.identites_mises_a_jour == 0
    moved = _ouvert(
        tmp_path,
        "moved.xml",
        ("<NOMVOIE>HENRI BARBUSSE</NOMVOIE>", "<NOMVOIE>DES LILAS</NOMVOIE>"),
    )
    rapport = importer.import_file(moved)
    assert (rapport.evenements_total, rapport.identites_mises_a_jour) == (0, 1)
    ((case_id, _, _),) = events(app)
    identite = importer.identities.read(case_id)
    assert identite is not None
    assert identite.adresse == ["25", "RUE", "DES LILAS"]
    assert importer.import_file(moved).identites_mises_a_jour == 0


def test_a_case_in_quarantine_refuses_its_household_and_the_file_goes_on(
    app: Parcours, tmp_path: Path
) -> None:
    """A step that got into the log under the rules' back makes one case unfoldable: the
    monthly flux reports that household and imports every other one."""
    args = {"seed": 5, "created": date(2022, 3, 5), "reference": date(2022, 2, 28)}
    daily, monthly = tmp_path / "daily.xml", tmp_path / "monthly.xml"
    write(daily, 30, type_flux="I", only=range(10), **args)  # type: ignore[arg-type]
    write(monthly, 30, **args)  # type: ignore[arg-type]
    importer = FluxImporter(app, batch_size=8)
    importer.import_file(daily)
    case_ids = sorted({r.originator_id for batch in read_log(app) for r in batch})
    poisoned = case_ids[0]
    under_the_rules_back(app, poisoned, far_cer)

    rapport = importer.import_file(monthly)

    assert rapport.statut == "importe"
    assert [r.motif.split(":")[0] for r in rapport.rejets] == ["dossier_en_quarantaine"]
    assert str(poisoned) in rapport.rejets[0].motif
    assert rapport.foyers_rejetes == 1
    assert rapport.foyers_importes + rapport.foyers_inchanges == rapport.foyers - 1 == 29
    assert rapport.foyers_importes > 0
