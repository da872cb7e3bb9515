"""Figures as a French reader writes them on the screens: `12 345`, `45,5`, `1 234,50 €` (a
non-breaking space between thousands and before the euro sign, so that a figure never breaks
across lines; a decimal comma). The CSV files keep their own plainer form
(`adapters.render.csv`), which spreadsheets read as numbers."""

from typing import Any

ESPACE = "\u00a0"
"""The non-breaking space."""


def _milliers(entier: int) -> str:
    return f"{entier:,}".replace(",", ESPACE)


def nombre(value: Any) -> str:
    """A figure: `12 345`, `45,5` (one decimal), « — » for none, oui/non for a boolean."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return _milliers(value)
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", ESPACE).replace(".", ",")
    return str(value)


def numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def euros(cents: int | None, signe: bool = False) -> str:
    """Integer cents as euros: `1 234,50 €`, `-12,00 €`; with `signe`, a gain says `+` (a
    difference); « — » for none."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else "+" if signe and cents > 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{_milliers(whole)},{rest:02d}{ESPACE}€"
