"""The registry of agents' rights on the store: grants and revocations appended to the
département's one registry aggregate, and a person's rights read back from it.

The registry is small (a few events per agent): it is folded afresh on every read, so that a
revocation holds from the very next request."""

from collections.abc import Callable
from datetime import date

from adapters.eventlog.store import Parcours
from api.services.commands import Author, execute, refused
from domain.agents import (
    REGISTRE_DROITS_ID,
    Droit,
    Droits,
    Registre,
    RoleAgent,
    accorder,
    retirer,
)
from domain.decide import Contexte
from domain.events import Evenement, Recorded

Decide = Callable[[Registre, Contexte], list[Evenement]]
"""What a grant or a revocation records, given the registry and the moment."""


def _registre(history: list[Recorded]) -> Registre:
    return Registre(r.event for r in history)


def registre(app: Parcours) -> Registre:
    """Every right granted, as the log holds it now."""
    return _registre(app.history(REGISTRE_DROITS_ID))


def _write(app: Parcours, decide: Decide, author: Author, field: str) -> list[Droit]:
    """Append what `decide` grants or revokes; the rights it touched, as they now stand."""
    appended = execute(
        app,
        REGISTRE_DROITS_ID,
        lambda history, ctx: decide(_registre(history), ctx),
        author,
        lost_race=refused("registre_concurrent", "Registre modifié en même temps.", field),
    )
    after = registre(app)
    touched = [getattr(r.event, "droit_id", "") for r in appended.recorded]
    return [d for d in (after.get(i) for i in touched) if d is not None]


def grant(
    app: Parcours,
    *,
    agent: str,
    role: RoleAgent,
    structures: list[str],
    du: date,
    au: date | None,
    motif: str,
    author: Author,
) -> Droit:
    """Record the grant; the right as recorded."""

    def decide(state: Registre, ctx: Contexte) -> list[Evenement]:
        return [
            accorder(
                state,
                agent=agent,
                role=role,
                structures=structures,
                du=du,
                au=au,
                motif=motif,
                meta=ctx.meta,
                today=ctx.today,
            )
        ]

    return _write(app, decide, author, "agent")[0]


def revoke(
    app: Parcours,
    *,
    droit_id: str | None,
    agent: str | None,
    role: RoleAgent | None,
    motif: str,
    author: Author,
) -> list[Droit]:
    """Record the revocation (of one right, or of an agent's rights for a role); the rights
    revoked."""

    def decide(state: Registre, ctx: Contexte) -> list[Evenement]:
        return list(
            retirer(
                state,
                droit_id=droit_id,
                agent=agent,
                role=role,
                motif=motif,
                meta=ctx.meta,
                today=ctx.today,
            )
        )

    return _write(app, decide, author, "droit_id")


def rights_of(app: Parcours, sub: str, email: str | None, today: date) -> Droits:
    """The roles and structures active `today` of the person with this `sub` or `email`."""
    return registre(app).droits_a(today, sub, email)
