"""The command routes: one POST per step of the path, each with a documented example body.

Derived from the routes declared next to the commands (`domain.commands.Route`), in the order
of the command unions: a new command with its route needs no line here."""

from typing import Any

from domain.commands import (
    CORRECTION_COMMANDS,
    STEP_COMMANDS,
    Commande,
    EnregistrerEntree,
    Famille,
)
from domain.events import Evenement


class Step:
    def __init__(
        self,
        slug: str,
        command: type[Commande],
        summary: str,
        example: dict[str, Any],
        famille: Famille | None = None,
    ):
        self.slug = slug
        self.command = command
        self.summary = summary
        self.example = example
        self.famille = famille
        """Who records it, which the roles admitted follow (None for a correction)."""


def _steps(commands: tuple[type[Commande], ...]) -> list[Step]:
    """The routed commands among `commands` (a command the flux alone records has no route)."""
    return [
        Step(c.route.slug, c, c.route.summary, c.route.example, c.route.famille)
        for c in commands
        if c.route is not None
    ]


ENTREE, *STEPS = _steps(STEP_COMMANDS)
assert ENTREE.command is EnregistrerEntree, "the entry comes first in the union of steps"

CORRECTIONS: list[Step] = _steps(CORRECTION_COMMANDS)
"""Corrections: admitted for the roles that may record the step corrected."""


def _event_slugs() -> dict[type[Evenement], str]:
    """The route (slug) that records each kind of step, whose roles may correct it: the first
    route declaring it (a CER renewed is corrected as one signed; the changes of rights and
    duties come from the flux, like a suspension)."""
    out: dict[type[Evenement], str] = {}
    for step in [ENTREE, *STEPS]:
        for event in step.command.route.records if step.command.route else ():
            out.setdefault(event, step.slug)
    return out


EVENT_SLUGS = _event_slugs()
