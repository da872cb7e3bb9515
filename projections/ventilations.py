"""The breakdowns a délais table offers, named apart from the indicators so that the command
line lists them without loading their computation."""

from typing import Literal

Ventilation = Literal["territoire", "structure", "type_orientation", "mois"]
VENTILATIONS: tuple[str, ...] = ("territoire", "structure", "type_orientation", "mois")
