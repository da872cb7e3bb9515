"""What a flux file may hold: reading limits enforced while it streams (memory bounded whatever
the file), unknown content under Racine, a file with no household, an encoding at odds with
its declaration. Each is refused whole, with its line, and nothing is written."""

import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.flux.limits import Limites
from adapters.flux.reader import FluxInvalide, scan
from adapters.settings import Settings
from adapters.sql import Db
from api.cli.main import main
from api.http.app import create_app
from api.http.auth import Role
from api.services.flux_import import FluxImporter
from scripts.flux_generator import write, write_unknown
from tests.auth import bearer
from tests.flux.helpers import clock, variant

FLUX = bearer(Role.FLUX, sub="flux-caf")
SMALL = Limites(
    bloc=512,
    foyer_octets=8 << 10,
    foyer_elements=500,
    profondeur=12,
    texte=1000,
    hors_foyer_octets=8 << 10,
)
"""Small limits (and blocks) so that small files reach them."""


def _flux(tmp: Path, households: int = 4) -> list[str]:
    """A generated flux, as lines: declaration, Racine, header, households, trailer, end."""
    path = tmp / "base.xml"
    write(path, households, seed=3, created=date(2022, 3, 5), reference=date(2022, 2, 28))
    return path.read_text(encoding="cp1252").splitlines(keepends=True)


def _file(tmp: Path, name: str, lines: list[str], encoding: str = "cp1252") -> Path:
    path = tmp / name
    path.write_bytes("".join(lines).encode(encoding))
    return path


def _refusal(path: Path, limites: Limites = SMALL) -> FluxInvalide:
    with pytest.raises(FluxInvalide) as refused:
        scan(path, io.BytesIO(), limites=limites)
    return refused.value


def _inside(line: str, content: str) -> str:
    """A household line with `content` added after its IdentificationRSA."""
    return line.replace("</IdentificationRSA>", "</IdentificationRSA>" + content, 1)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("octets", "foyer de plus de 8192 octets"),
        ("elements", "bloc InfosFoyerRSA de plus de 500 éléments"),
        ("texte", "texte de l'élément NOM de plus de 1000 caractères"),
        ("profondeur", "éléments imbriqués sur plus de 12 niveaux"),
        ("hors_foyer", "plus de 8192 octets hors des foyers depuis le foyer précédent"),
    ],
)
def test_each_reading_limit_refuses_the_file_at_the_line(
    tmp_path: Path, case: str, reason: str
) -> None:
    """The third household (line 6) breaks one limit: the file is refused as a whole, with
    the household's line (or, outside households, the line where the limit is crossed)."""
    lines = _flux(tmp_path, 4)
    assert lines[5].startswith("<InfosFoyerRSA>")
    if case == "octets":  # 11 KB in a few elements with short texts
        lines[5] = _inside(lines[5], ("<X>" + "A" * 900 + "</X>") * 12)
    elif case == "elements":
        lines[5] = _inside(lines[5], "<X/>" * 600)
    elif case == "texte":
        lines[5] = lines[5].replace("<NOM>", "<NOM>" + "A" * 1200, 1)
    elif case == "profondeur":  # spread over blocks, as deep nesting that fills memory is
        lines[5] = _inside(lines[5], "<X>" * 20 + " " * 2000 + "</X>" * 20)
    else:
        lines[5:5] = ["\n" * 100, " " * 20_000 + "\n"]
    path = _file(tmp_path, f"{case}.xml", lines)
    assert scan(path, io.BytesIO(), limites=Limites())[1] == 4  # the defaults take it
    refused = _refusal(path)
    assert (refused.code, refused.reason) == ("flux_hors_limites", reason)
    assert refused.line == (6 + 100 if case == "hors_foyer" else 6)


@pytest.mark.parametrize(
    ("case", "line", "reason"),
    [
        ("inconnu", 5, "élément Inconnu inconnu du schéma dans Racine"),
        ("avant_entete", 3, "élément Inconnu inconnu du schéma dans Racine"),
        ("texte", 4, "texte hors des éléments du schéma après InfosFoyerRSA"),
        ("sans_fin", 6, "bloc TransmissionFlux manquant à la fin de Racine"),
        ("apres_fin", 7, "élément InfosFoyerRSA après le bloc TransmissionFlux"),
    ],
)
def test_content_outside_the_schema_under_racine_refuses_the_file(
    tmp_path: Path, case: str, line: int, reason: str
) -> None:
    """Racine holds the header, the households and the trailer, in this order, and nothing
    else (the schema's envelope): anything else refuses the file where it stands."""
    lines = _flux(tmp_path, 2)
    if case == "inconnu":
        lines.insert(4, "<Inconnu><A>x</A></Inconnu>\n")
    elif case == "avant_entete":
        lines.insert(2, "<Inconnu/>\n")
    elif case == "texte":
        lines.insert(4, "texte égaré\n")
    elif case == "sans_fin":
        del lines[-2]
    else:
        lines.insert(-1, lines[3])
    refused = _refusal(_file(tmp_path, f"{case}.xml", lines), Limites())
    assert refused.code == "flux_non_conforme"
    assert refused.reason.startswith(reason)
    assert refused.line == line


def test_unknown_content_is_refused_early_in_bounded_memory(tmp_path: Path) -> None:
    """A valid header followed by 12 MB of unknown elements: the validating pass, in a
    fresh interpreter as for a large file, refuses it at the first of them (line 4) and
    stays at its size at rest (24 MB here; reading the whole file took it to 286 MB)."""
    path = tmp_path / "inconnu.xml"
    write_unknown(path, 12)
    code = (
        "import io, sys\n"
        "from pathlib import Path\n"
        "from adapters.flux.reader import FluxInvalide, scan\n"
        "try:\n"
        "    scan(Path(sys.argv[1]), io.BytesIO())\n"
        "    print('accepte')\n"
        "except FluxInvalide as e:\n"
        "    print(e.code, e.line)\n"
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "print(next(int(s.split()[1]) // 1024 for s in status if s.startswith('VmHWM:')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    outcome, peak = done.stdout.splitlines()
    assert outcome == "flux_non_conforme 4"
    assert int(peak) < 80, f"{peak} MB"


def _nothing_written(app: Parcours) -> None:
    assert app.max_position() == 0
    with Db(app.settings).transaction() as tx:
        assert tx.execute("SELECT count(*) FROM identite") == [(0,)]


@pytest.fixture
def app(settings: Settings) -> Parcours:
    return Parcours(settings, clock=clock())


def test_a_file_with_no_household_is_refused(app: Parcours, tmp_path: Path) -> None:
    """A header and a trailer, no household: not a usable flux (the documentation said so,
    the import answered `importe` with 0 households)."""
    path = tmp_path / "vide.xml"
    write(path, 0)
    rapport = FluxImporter(app).import_file(path)
    assert rapport.statut == "rejete"
    [rejet] = rapport.rejets
    assert (rejet.ligne, rejet.code) == (4, "flux_sans_foyer")
    assert rejet.motif.startswith("fichier sans foyer: aucun foyer (InfosFoyerRSA)")
    _nothing_written(app)


def test_a_utf8_file_declared_windows_1252_is_refused(app: Parcours, tmp_path: Path) -> None:
    """Its names would be imported scrambled (HÉLÈNE as HÃ‰LÃˆNE): refused at the line of
    the first UTF-8 sequence, nothing written."""
    source = variant(tmp_path, "RSABEM-ouvert.xml", "x.xml", ("<NOM>BULLOCK", "<NOM>HÉLÈNE"))
    text = source.read_bytes().decode("cp1252")
    path = tmp_path / "utf8.xml"
    path.write_bytes(text.encode("utf-8"))
    line = text[: text.index("HÉLÈNE")].count("\n") + 1
    rapport = FluxImporter(app).import_file(path)
    assert rapport.statut == "rejete"
    [rejet] = rapport.rejets
    assert (rejet.ligne, rejet.code) == (line, "flux_encodage")
    assert "déclaré windows-1252 mais écrit en UTF-8" in rejet.motif
    assert "« Ã‰ » au lieu de « É »" in rejet.motif
    _nothing_written(app)
    assert FluxImporter(app).import_file(source).statut == "importe"  # the same in windows-1252


def test_a_windows_1252_file_declared_utf8_is_refused(app: Parcours, tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        "RSABEM-ouvert.xml",
        "x.xml",
        ('encoding="windows-1252"', 'encoding="UTF-8"'),
        ("<NOM>BULLOCK", "<NOM>HÉLÈNE"),
    )
    text = path.read_bytes().decode("cp1252")
    rapport = FluxImporter(app).import_file(path)
    [rejet] = rapport.rejets
    assert (rejet.ligne, rejet.code) == (text[: text.index("HÉL")].count("\n") + 1, "flux_encodage")
    assert "octets invalides en UTF-8 (C9)" in rejet.motif
    _nothing_written(app)


def test_a_household_over_the_limits_writes_nothing_even_read_apart(
    app: Parcours, tmp_path: Path
) -> None:
    """The limits hold in the validating process of large files too, after batches of the
    households before were prepared: nothing of them is written."""
    lines = _flux(tmp_path, 40)
    lines[35] = _inside(lines[35], "<X/>" * 600)
    path = _file(tmp_path, "grand.xml", lines)
    importer = FluxImporter(app, batch_size=8, parallel_from=0, limites=SMALL)
    rapport = importer.import_file(path)
    assert rapport.statut == "rejete"
    [rejet] = rapport.rejets
    assert (rejet.ligne, rejet.code) == (36, "flux_hors_limites")
    _nothing_written(app)


def test_refusals_over_http_are_problems_naming_the_file_and_line(
    settings: Settings, tmp_path: Path
) -> None:
    parcours = Parcours(settings, clock=clock())
    empty = tmp_path / "vide.xml"
    write(empty, 0)
    unknown = tmp_path / "inconnu.xml"
    write_unknown(unknown, 1)
    mislabelled = variant(tmp_path, "RSABEM-ouvert.xml", "x.xml", ("<NOM>BULLOCK", "<NOM>ÉLÉA"))
    text = mislabelled.read_bytes().decode("cp1252")
    utf8 = text.encode("utf-8")
    with TestClient(create_app(settings, parcours), headers=FLUX) as client:
        for name, body, code, line in [
            ("vide.xml", empty.read_bytes(), "flux_sans_foyer", 4),
            ("inconnu.xml", unknown.read_bytes(), "flux_non_conforme", 4),
            ("utf8.xml", utf8, "flux_encodage", text[: text.index("ÉLÉA")].count("\n") + 1),
        ]:
            refused = client.post(
                f"/flux/imports?fichier={name}",
                content=body,
                headers={"Content-Type": "application/xml"},
            )
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            problem = refused.json()
            assert (problem["code"], problem["field"]) == (code, "body")
            assert problem["detail"].startswith(f"Ligne {line} du fichier {name}: ")
            assert "Rien n'a été importé" in problem["detail"]
    _nothing_written(parcours)


def test_cli_refuses_a_file_with_no_household(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARCOURS_STORE", "sqlite")
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(tmp_path))
    path = tmp_path / "vide.xml"
    write(path, 0)
    with pytest.raises(SystemExit) as refused:
        main(["flux", "import", str(path)])
    assert refused.value.code == 1
    out = capsys.readouterr().out
    assert "vide.xml: rejete" in out
    assert "rejet: ligne 4: fichier sans foyer: aucun foyer (InfosFoyerRSA)" in out
