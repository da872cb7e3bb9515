"""Calendar arithmetic the rules share (months are calendar months, clamped to month end)."""

import calendar
from datetime import date


def add_months(d: date, months: int) -> date:
    """`d` plus `months` calendar months; 31 January + 1 month is 28 or 29 February."""
    month_index = d.month - 1 + months
    year = d.year + month_index // 12
    month = month_index % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def fin_contrat(debut: date, duree_mois: int) -> date:
    """Last day covered by a contract of `duree_mois` months starting on `debut`."""
    return date.fromordinal(add_months(debut, duree_mois).toordinal() - 1)
