"""How the administration screen reads its fields and shows a refusal next to its field."""

from api.web.administration import GRANT_FIELDS, _refusal, etp, structures_of
from domain.errors import DomainError


def test_structures_are_typed_separated_by_commas_or_spaces() -> None:
    assert structures_of(" ccas-creteil, ccas-vitry ,ft-creteil  aave") == [
        "ccas-creteil",
        "ccas-vitry",
        "ft-creteil",
        "aave",
    ]
    assert structures_of(" , ") == []


def test_posts_are_written_with_a_decimal_comma() -> None:
    assert [etp(3.5), etp(2.0), etp(None)] == ["3,5", "2", "—"]


def test_a_refusal_comes_back_next_to_the_field_it_names() -> None:
    indexed = DomainError("x", "structures[1]: trop long", field="structures[1]")
    assert _refusal(indexed, GRANT_FIELDS) == ("structures", "trop long")
    au = DomainError("au_avant_du", "La fin du droit précède son début.", field="au")
    assert _refusal(au, GRANT_FIELDS) == ("au", "La fin du droit précède son début.")
    elsewhere = DomainError("registre_concurrent", "Registre modifié.", field="droit_id")
    assert _refusal(elsewhere, GRANT_FIELDS) == ("agent", "Registre modifié.")
