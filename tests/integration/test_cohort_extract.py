"""Cohort extracts from a real store (SQLite file and PostgreSQL): histories read case by case,
definitions saved by name in the log, no identifying value in any output byte, and a Parquet
file that DuckDB reads back with the documented schema."""

import io
import json
import os
import stat
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import msgspec
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from adapters.eventlog.reading import histories
from adapters.eventlog.store import Parcours
from adapters.pseudonym_key import KEY_ENV, KEY_FILE, stable_key
from adapters.render.extracts import Format
from adapters.settings import Settings
from api.services.cohorts import (
    Cle,
    Forme,
    extract_to,
    key_for,
    list_definitions,
    load_definition,
    save_definition,
)
from api.services.commands import Author
from domain.cohorts import DefinitionCohorte
from domain.errors import DomainError
from projections.cohort import COLONNES_EPISODES, COLONNES_EVENEMENTS
from projections.pseudonym import NiveauCommune, cle_personne
from tests.cohort_history import ALL, CASE_A, CASE_B, CASE_C, IDENTIFYING

KEY = bytes(range(32))
COHORT_2024 = DefinitionCohorte(entree_du=date(2024, 1, 1), entree_au=date(2024, 12, 31))
AUTHOR = Author(user="evaluatrice", request_id="r-1")


@pytest.fixture
def loaded(parcours: Parcours) -> Parcours:
    parcours.append_many(ALL)
    save_definition(parcours, "c2024", COHORT_2024, AUTHOR)
    return parcours


def _extract(app: Parcours, forme: Forme, fmt: Format, **kw: object) -> bytes:
    sink = io.BytesIO()
    extract_to(app, COHORT_2024, sink, forme=forme, fmt=fmt, key=KEY, batch=3, **kw)  # type: ignore[arg-type]
    return sink.getvalue()


def test_histories_come_case_by_case_in_key_order(loaded: Parcours) -> None:
    got = [(h[0].originator_id, [r.originator_version for r in h]) for h in histories(loaded)]
    expected = {CASE_A: list(range(1, 17)), CASE_B: [1, 2], CASE_C: [1]}
    assert got == sorted(expected.items(), key=lambda kv: str(kv[0]))


def test_definitions_are_saved_by_name_and_replaced(loaded: Parcours) -> None:
    wider = DefinitionCohorte(entree_du=date(2023, 1, 1), communes=["94028"])
    assert save_definition(loaded, "c2024", wider, AUTHOR) == (2, False)
    assert save_definition(loaded, "autre", COHORT_2024, AUTHOR) == (1, True)
    assert load_definition(loaded, "c2024") == wider
    assert load_definition(loaded, "inconnue") is None
    assert list_definitions(loaded) == {"autre": COHORT_2024, "c2024": wider}


def test_bad_definition_is_refused_and_nothing_written(loaded: Parcours) -> None:
    before = loaded.max_position()
    backwards = DefinitionCohorte(entree_du=date(2024, 2, 1), entree_au=date(2024, 1, 1))
    with pytest.raises(DomainError) as refused:
        save_definition(loaded, "à l'envers", backwards, AUTHOR)
    assert refused.value.field == "nom"
    with pytest.raises(DomainError) as refused:
        save_definition(loaded, "envers", backwards, AUTHOR)
    assert refused.value.field == "entree_au"
    with pytest.raises(DomainError) as refused:
        save_definition(loaded, "c", DefinitionCohorte(communes=["940"]), AUTHOR)
    assert refused.value.field == "communes"
    assert loaded.max_position() == before


def test_csv_episodes_open_in_a_french_spreadsheet(loaded: Parcours) -> None:
    data = _extract(loaded, Forme.EPISODES, Format.CSV, communes=NiveauCommune.DEPARTEMENT)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0].split(";") == [c.entete for c in COLONNES_EPISODES]
    rows = [line.split(";") for line in lines[1:] if line]
    key_a, key_b = cle_personne(KEY, CASE_A), cle_personne(KEY, CASE_B)
    # Person A: both episodes (the second outside the cohort); person B; not C.
    assert sorted((r[0], r[1], r[2]) for r in rows) == sorted(
        [(key_a, "1", "oui"), (key_a, "2", "non"), (key_b, "1", "oui")]
    )
    first_a = next(r for r in rows if r[0] == key_a and r[1] == "1")
    assert first_a[3:12] == [
        "F",
        "30_39",
        "94",
        "oui",
        "caf",
        "2024-01-03",
        "2024-01-04",
        "2024-01-25",
        "sociale",
    ]
    assert first_a[22:27] == ["22", "4", "11", "26", "194"]


def test_jsonl_events_row_by_row(loaded: Parcours) -> None:
    data = _extract(loaded, Forme.EVENEMENTS, Format.JSONL)
    rows = [json.loads(line) for line in data.decode().splitlines()]
    key_a, key_b = cle_personne(KEY, CASE_A), cle_personne(KEY, CASE_B)
    assert [(r["cle_personne"], r["rang"], r["type_evenement"]) for r in rows] == [
        *[
            (key_a, n, t)
            for n, t in enumerate(
                [
                    "EntreeEnregistree",
                    "OrientationDecidee",
                    "ReferentDesigne",
                    "RdvPlanifie",
                    "IssueRdvEnregistree",
                    "RdvPlanifie",
                    "IssueRdvEnregistree",
                    "CerSigne",
                    "SanctionDecidee",
                    "ReorientationDecidee",
                    "SortieEnregistree",
                    "DroitClos",
                    "DroitRouvert",
                    "OrientationDecidee",
                ],
                1,
            )
        ],
        (key_b, 1, "EntreeEnregistree"),
        (key_b, 2, "DroitSuspendu"),
    ]
    assert rows[10]["date_effet"] == "2024-07-15"
    assert rows[10]["type_sortie"] == "emploi_cdd_plus_6_mois"
    assert rows[0]["enregistre_le"] == "2024-01-03T09:30:00Z"
    assert list(rows[0]) == [c.nom for c in COLONNES_EVENEMENTS]


@pytest.mark.parametrize("fmt", [Format.CSV, Format.JSONL])
@pytest.mark.parametrize("forme", list(Forme))
def test_no_identifying_value_in_any_byte(loaded: Parcours, forme: Forme, fmt: Format) -> None:
    data = _extract(loaded, forme, fmt)
    texts = [*IDENTIFYING, "1990", "1958"]
    for case_id in (CASE_A, CASE_B, CASE_C):
        texts += [str(case_id), case_id.hex, str(case_id).upper(), case_id.hex.upper()]
    for text in texts:
        assert text.encode() not in data, text
    for case_id in (CASE_A, CASE_B, CASE_C):
        assert case_id.bytes not in data


def test_parquet_reads_back_in_duckdb_with_the_documented_schema(
    loaded: Parcours, tmp_path: Path
) -> None:
    path = tmp_path / "episodes.parquet"
    path.write_bytes(_extract(loaded, Forme.EPISODES, Format.PARQUET))
    con = duckdb.connect()
    described = con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall()
    duck = {"str": "VARCHAR", "int": "INTEGER", "bool": "BOOLEAN", "date": "DATE"}
    assert [(d[0], d[1]) for d in described] == [(c.nom, duck[c.type]) for c in COLONNES_EPISODES]
    got = con.execute(
        f"SELECT episode, dans_cohorte, date_entree, delai_orientation_jours, nb_rdv_absences "
        f"FROM '{path}' WHERE cle_personne = ? ORDER BY episode",
        [cle_personne(KEY, CASE_A)],
    ).fetchall()
    assert got == [(1, True, date(2024, 1, 3), 22, 1), (2, False, date(2025, 3, 3), 17, 0)]
    every_value = con.execute(f"SELECT * FROM '{path}'").fetchall()
    flat = " ".join(str(v) for row in every_value for v in row)
    for text in (*IDENTIFYING, str(CASE_A), CASE_A.hex, "1990"):
        assert text not in flat

    events = tmp_path / "events.parquet"
    events.write_bytes(_extract(loaded, Forme.EVENEMENTS, Format.PARQUET))
    described = con.execute(f"DESCRIBE SELECT * FROM '{events}'").fetchall()
    duck["timestamp"] = "TIMESTAMP WITH TIME ZONE"
    assert [(d[0], d[1]) for d in described] == [(c.nom, duck[c.type]) for c in COLONNES_EVENEMENTS]
    assert con.execute(f"SELECT count(*) FROM '{events}'").fetchone() == (16,)
    schema = pq.read_schema(events)
    assert schema.field("rang").metadata == {
        b"entete": b"Rang",
        b"description": "Ordre de l'étape dans le parcours (étapes annulées ôtées)".encode(),
    }


def test_stable_key_is_kept_and_rotating_key_differs(settings: Settings, tmp_path: Path) -> None:
    settings = msgspec.structs.replace(settings, data_dir=tmp_path / "data")
    environ = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    first = stable_key(settings, environ)
    path = Path(settings.data_dir) / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stable_key(settings, environ) == first
    assert stable_key(settings, {KEY_ENV: "ab" * 32}) == bytes.fromhex("ab" * 32)
    with pytest.raises(ValueError, match=KEY_ENV):
        stable_key(settings, {KEY_ENV: "abcd"})
    stable = partial(stable_key, settings)
    assert key_for(Cle.ROTATIVE, stable) != key_for(Cle.ROTATIVE, stable)


def test_saved_definitions_are_not_cases_for_the_read_models(loaded: Parcours) -> None:
    from adapters.readmodels.projector import Projector
    from domain.cohorts import cohort_id

    projector = Projector(loaded)
    projector.catch_up()
    rows = projector.view.all_rows()
    assert set(rows) == {CASE_A, CASE_B, CASE_C}
    assert cohort_id("c2024") not in rows


def test_the_documented_schema_lists_every_column() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "evaluation.md").read_text()
    for colonne in (*COLONNES_EPISODES, *COLONNES_EVENEMENTS):
        assert f"| `{colonne.nom}` |" in doc, colonne.nom
