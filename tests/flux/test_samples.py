"""Each CAF/MSA sample file imported into an empty store, with the events it must write."""

from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from adapters.eventlog.store import Parcours
from adapters.identity import IdentityStore
from adapters.settings import Settings
from api.services.flux_import import FluxImporter
from domain.events import DroitSuspendu, EntreeEnregistree, Profil
from domain.vocabulary import OrganismePayeur, Sexe
from tests.flux.helpers import FIXTURES, META, NOW, clock, dump_tables, events


@pytest.fixture
def app(settings: Settings) -> Parcours:
    return Parcours(settings, clock=clock())


def _import(app: Parcours, name: str) -> tuple[FluxImporter, object]:
    importer = FluxImporter(app)
    return importer, importer.import_file(FIXTURES / name)


def _numero(settings: Settings, matricule: str) -> str:
    return "CAF-" + IdentityStore(settings).blind_index("CAF", matricule, None)[:12]


def _bullock_entry(settings: Settings) -> EntreeEnregistree:
    return EntreeEnregistree(
        effective_on=date(2018, 8, 6),
        meta=META,
        numero_dossier=_numero(settings, "208956400000000"),
        organisme_payeur=OrganismePayeur.CAF,
        date_flux=date(2022, 3, 5),
        date_reception_flux=date(2022, 3, 10),
        soumis_droits_devoirs=True,
        profil=Profil(sexe=Sexe.F, annee_naissance=1973, code_commune="92044"),
    )


def test_monthly_flux_with_an_open_right(app: Parcours, settings: Settings) -> None:
    """RSABEM-ouvert: one household, right open and payable (2), person bound to rights and
    duties: one entry, dated by the application date, with the flux and reception dates."""
    _, rapport = _import(app, "RSABEM-ouvert.xml")
    written = events(app)
    assert [(v, e) for _, v, e in written] == [(1, _bullock_entry(settings))]
    assert (rapport.statut, rapport.foyers, rapport.foyers_importes) == ("importe", 1, 1)
    assert rapport.dossiers_crees == 1
    assert rapport.evenements == {"EntreeEnregistree": 1}


def test_monthly_flux_with_closures_and_suspensions(app: Parcours, settings: Settings) -> None:
    """RSABEM: household 1 is closed (5) and was never followed here (no case is opened for a
    closed right), its second person is not bound to rights and duties; household 2 is open
    with payment suspended (4) since 2021-11-01, reason 06: entry, then suspension."""
    _, rapport = _import(app, "RSABEM.xml")
    written = events(app)
    assert [(v, e) for _, v, e in written] == [
        (1, _bullock_entry(settings)),
        (2, DroitSuspendu(effective_on=date(2021, 11, 1), meta=META, motif="06")),
    ]
    assert len({case for case, _, _ in written}) == 1
    assert (rapport.foyers, rapport.foyers_importes, rapport.foyers_inchanges) == (2, 1, 1)
    assert rapport.personnes_non_suivies == 2
    assert rapport.evenements == {"EntreeEnregistree": 1, "DroitSuspendu": 1}
    assert rapport.rejets == []


def test_msa_daily_flux_with_a_refused_right(app: Parcours) -> None:
    """MSABEI: the application was refused (1): nobody enters the path."""
    _, rapport = _import(app, "MSABEI.xml")
    assert events(app) == []
    assert (rapport.statut, rapport.foyers, rapport.foyers_inchanges) == ("importe", 1, 1)
    assert rapport.personnes_non_suivies == 1


def test_msa_monthly_flux_imports_all_but_the_household_the_schema_refuses(
    app: Parcours, settings: Settings
) -> None:
    """MSABEM: household 1 (open, payment suspended since its application, reason 06) enters
    the path; household 2 has no Personne, which the schema requires: it is reported with its
    line and reason, and the rest of the file imports."""
    _, rapport = _import(app, "MSABEM.xml")
    numero = "MSA-" + IdentityStore(settings).blind_index("MSA", "922016057501584", None)[:12]
    assert [(v, e) for _, v, e in events(app)] == [
        (
            1,
            EntreeEnregistree(
                effective_on=date(2016, 1, 1),
                meta=META,
                numero_dossier=numero,
                organisme_payeur=OrganismePayeur.MSA,
                date_flux=date(2022, 3, 4),
                date_reception_flux=NOW.date(),
                soumis_droits_devoirs=True,
                profil=Profil(sexe=Sexe.F, annee_naissance=1988, code_commune="92040"),
            ),
        ),
        (2, DroitSuspendu(effective_on=date(2016, 1, 1), meta=META, motif="06")),
    ]
    assert (rapport.statut, rapport.foyers, rapport.foyers_importes) == ("importe", 2, 1)
    assert rapport.foyers_rejetes == 1
    [rejet] = rapport.rejets
    assert (rejet.ligne, rejet.foyer) == (123, 2)
    assert "Expected is ( Personne )" in rejet.motif


@pytest.mark.parametrize("name", ["RSABEI_invalid.xml", "RSABEI.xml"])
def test_a_file_without_any_conforming_household_is_refused_whole(
    app: Parcours, settings: Settings, name: str
) -> None:
    """RSABEI (and its copy RSABEI_invalid, which differs only by the schema path it declares):
    its only household lacks DonneesAdministratives, which the schema requires after the
    persons. With no conforming household, the file is refused with the line and the reason,
    and nothing is written, not even an identity."""
    importer, rapport = _import(app, name)
    assert rapport.statut == "rejete"
    assert len(rapport.rejets) == 1
    assert rapport.rejets[0].ligne == 12
    assert "Expected is one of ( Personne, DonneesAdministratives )" in rapport.rejets[0].motif
    assert app.max_position() == 0
    with importer.identities.db.transaction() as tx:
        assert tx.execute("SELECT count(*) FROM identite") == [(0,)]
        assert tx.execute("SELECT count(*) FROM identite_cle") == [(0,)]
    assert importer.reports.get(rapport.id) == rapport


def test_identity_is_kept_apart_and_readable(app: Parcours, settings: Settings) -> None:
    importer, _ = _import(app, "RSABEM.xml")
    case_id: UUID = events(app)[0][0]
    identite = importer.identities.read(case_id)
    assert identite is not None
    assert (identite.nom, identite.prenoms, identite.nir) == ("BULLOCK", ["ETA"], "2730799404078")
    assert identite.date_naissance == date(1973, 7, 21)
    assert identite.adresse == ["25", "RUE", "HENRI BARBUSSE"]
    assert (identite.code_postal, identite.commune) == ("92300", "LEVALLOIS PERRET")
    raw = dump_tables(importer.identities.db)
    for value in (b"BULLOCK", b"2730799404078", b"1973-07-21", b"HENRI BARBUSSE", b"TIFOUR"):
        assert value not in raw
    assert b"92044" in raw  # the commune code of the profile is in clear, as intended


def test_external_entities_are_not_read(app: Parcours, tmp_path: Path) -> None:
    """A flux that declares an entity pointing at a local file: the file is never read into
    the store (entities are not resolved, nothing is fetched)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("CONTENU-SECRET")
    text = (FIXTURES / "RSABEM-ouvert.xml").read_bytes().decode("cp1252")
    text = text.replace(
        "<Racine",
        f'<!DOCTYPE Racine [<!ENTITY x SYSTEM "file://{secret}">]>\n<Racine',
        1,
    ).replace("<NOM>BULLOCK</NOM>", "<NOM>&x;</NOM>", 1)
    path = tmp_path / "entity.xml"
    path.write_bytes(text.encode("cp1252"))
    importer, _ = _import_path(app, path)
    assert b"CONTENU-SECRET" not in dump_tables(importer.identities.db)
    for case_id, _, _ in events(app):
        identite = importer.identities.read(case_id)
        assert identite is not None
        assert "SECRET" not in (identite.nom or "")


def _import_path(app: Parcours, path: Path) -> tuple[FluxImporter, object]:
    importer = FluxImporter(app)
    return importer, importer.import_file(path)
