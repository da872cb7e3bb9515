"""How the statistics screen writes a figure for a French reader."""

from datetime import date

from api.web.statistiques import last_full_year, nombre, numeric


def test_figures_have_a_non_breaking_space_between_thousands_and_a_decimal_comma() -> None:
    assert nombre(1234567) == "1\u00a0234\u00a0567"
    assert nombre(12) == "12"
    assert nombre(45.5) == "45,5"
    assert nombre(12345.25) == "12\u00a0345,2"
    assert nombre(None) == "—"
    assert nombre(True) == "oui"
    assert [numeric(v) for v in (3, 2.5, True, "2024-01", None)] == [1, 1, 0, 0, 0]


def test_the_default_period_is_the_last_full_calendar_year() -> None:
    assert last_full_year(date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
