"""The statistics screen's default period."""

from datetime import date

from api.web.statistiques import last_full_year


def test_the_default_period_is_the_last_full_calendar_year() -> None:
    assert last_full_year(date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
