"""The folding of names, file numbers and NIRs shared by the search index and its queries."""

import pytest

from adapters.identity_search import (
    QueryTooShort,
    fold,
    name_terms,
    person_terms,
    query_terms,
    tokens,
)


def test_accents_case_and_ligatures_fold_to_one_spelling() -> None:
    assert fold("Éloïse") == fold("ELOISE") == "eloise"
    assert fold("Lætitia Œuvray") == "laetitia oeuvray"
    assert fold("Ñúñez") == "nunez"


def test_names_split_on_spaces_hyphens_and_apostrophes() -> None:
    assert tokens("Le Gall-Dupré") == ["le", "gall", "dupre"]
    assert tokens("D'Artagnan  O’Neil") == ["d", "artagnan", "o", "neil"]
    assert tokens(None) == []


def test_every_prefix_of_three_letters_or_more_is_a_term() -> None:
    assert name_terms(["Dupont"]) == {"dup", "dupo", "dupon", "dupont"}
    assert name_terms(["Le Bé"]) == {"le", "be", "leb", "lebe"}
    assert {"n", "diaye", "ndiaye", "ndi"} <= name_terms(["N'Diaye"])
    assert "dup" in name_terms(["Jean-Dupont"])


def test_a_person_is_found_by_file_number_with_or_without_organisme_and_by_nir() -> None:
    terms = person_terms("CAF", " 0123456 ", "2820251108030 45", ["Tifour", "Sophie"])
    assert {"0123456", "caf:0123456", "2820251108030", "tifour", "sop"} <= terms


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("  Dupont  ", [["dupont"]]),
        ("ÉLOÏSE dupont", [["eloise", "dupont"]]),
        ("jean-pierre", [["jean", "pierre"]]),
        ("dupont Dupont", [["dupont"]]),
        ("0123456", [["0123456"]]),
        ("CAF 0123456", [["caf:0123456"]]),
        ("msa-0123456", [["msa:0123456"]]),
        ("2 82 02 51 108 030", [["2820251108030"]]),
        ("208956400000000", [["2089564000000"], ["208956400000000"]]),
        ("282022A108030 45", [["282022a108030"]]),
        ("cafe", [["cafe"]]),
        ("le gall a", [["gall"]]),
        ("le b", [["leb"]]),
        ("N'Diaye", [["diaye"]]),
    ],
)
def test_a_query_folds_as_the_index_does(query: str, terms: list[list[str]]) -> None:
    assert query_terms(query) == terms


@pytest.mark.parametrize("query", ["", "  ", "du", "é-a", "--"])
def test_a_query_under_three_characters_is_refused(query: str) -> None:
    with pytest.raises(QueryTooShort):
        query_terms(query)
