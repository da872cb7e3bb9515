"""How the screens write a figure and an amount for a French reader."""

import pytest

from api.web.formats import euros, nombre, numeric

NBSP = "\u00a0"


def test_figures_have_a_non_breaking_space_between_thousands_and_a_decimal_comma() -> None:
    assert nombre(1234567) == "1\u00a0234\u00a0567"
    assert nombre(12) == "12"
    assert nombre(45.5) == "45,5"
    assert nombre(12345.25) == "12\u00a0345,2"
    assert nombre(None) == "—"
    assert nombre(True) == "oui"
    assert [numeric(v) for v in (3, 2.5, True, "2024-01", None)] == [1, 1, 0, 0, 0]


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (123450, "1\u00a0234,50\u00a0€"),
        (0, "0,00\u00a0€"),
        (5, "0,05\u00a0€"),
        (99, "0,99\u00a0€"),
        (100, "1,00\u00a0€"),
        (99999, "999,99\u00a0€"),
        (100000, "1\u00a0000,00\u00a0€"),
        (302500, "3\u00a0025,00\u00a0€"),
        (123456789012, "1\u00a0234\u00a0567\u00a0890,12\u00a0€"),
        (-7600, "-76,00\u00a0€"),
        (-123450, "-1\u00a0234,50\u00a0€"),
        (-5, "-0,05\u00a0€"),
    ],
)
def test_euros_from_cents(cents: int, shown: str) -> None:
    assert euros(cents) == shown


def test_a_difference_says_its_sign_and_no_amount_is_a_dash() -> None:
    assert euros(7600, signe=True) == "+76,00\u00a0€"
    assert euros(-7600, signe=True) == "-76,00\u00a0€"
    assert euros(0, signe=True) == "0,00\u00a0€"
    assert euros(None) == "—"


def test_an_amount_never_breaks_across_lines() -> None:
    shown = euros(123456789)
    assert " " not in shown
    assert shown.count(NBSP) == 3
