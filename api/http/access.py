"""Who may do what to a case: the roles each step admits, and an agent's reach limited to the
cases currently oriented to one of its structures (anything else answers 404, as an unknown case
would, so that existence does not leak)."""

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import structlog
from fastapi import Request

from adapters.eventlog.store import STORE_ERRORS
from adapters.readmodels.quarantine import describe
from api.http.auth import Principal, Role, forbidden, log_case_access
from api.http.problems import ProblemError
from api.http.steps import CORRECTIONS, ENTREE, STEPS
from domain.commands import Famille
from domain.dossier import Dossier
from domain.errors import DomainError

log = structlog.get_logger("api")

RIGHTS = frozenset({Role.FLUX, Role.ORIENTATION})
PATH = frozenset({Role.ORIENTATION, Role.AGENT})
FAMILY_ROLES: dict[Famille, frozenset[Role]] = {
    Famille.DROITS: RIGHTS,
    Famille.ORIENTATION: frozenset({Role.ORIENTATION}),
    Famille.PARCOURS: PATH,
}
"""Roles admitted by each family of steps (declared on each command's route)."""

CORRECTION_ROLES = RIGHTS | PATH
"""Roles that may record some correction; each correction is admitted for the roles of the step
it corrects (`STEP_ROLES`)."""

STEP_ROLES: dict[str, frozenset[Role]] = {
    step.slug: CORRECTION_ROLES if step.famille is None else FAMILY_ROLES[step.famille]
    for step in [ENTREE, *STEPS, *CORRECTIONS]
}
"""Roles admitted by each command route (slug; "" is the entry), from its command's family, and
declared on the route (`api.http.cases`). An agent only on its cases."""

READ_ROLES = frozenset({Role.AGENT, Role.ORIENTATION, Role.AUDITEUR})
"""Roles that read cases; an agent only its structures' cases."""


def unknown_case(case_id: UUID) -> ProblemError:
    return ProblemError(
        404, "dossier_inconnu", "Dossier inconnu", f"Aucun dossier {case_id}.", "case_id"
    )


def case_in_quarantine(case_id: UUID, error: BaseException) -> ProblemError:
    return ProblemError(
        409,
        "dossier_en_quarantaine",
        "Dossier en quarantaine",
        f"L'historique du dossier {case_id} contient une étape qui ne peut pas être appliquée "
        f"({describe(error)}). Annuler ou rectifier cette étape, puis relire le dossier.",
        "case_id",
    )


_PASSING: tuple[type[Exception], ...] = (ProblemError, DomainError, *STORE_ERRORS)
"""Refusals and store errors: not the case's own."""


@contextmanager
def folding(case_id: UUID) -> Iterator[None]:
    """A case's history folded at request time: an error of the fold is the case's own
    (an event that got into the log under the rules' back), answered 409 for this case only;
    refusals and store errors pass through."""
    try:
        yield
    except _PASSING:
        raise
    except Exception as e:
        log.warning("case.unfoldable", case_id=str(case_id), error=describe(e))
        raise case_in_quarantine(case_id, e) from e


def only_as_agent(caller: Principal, allowed: frozenset[Role]) -> bool:
    """True when the caller is admitted through its agent role alone (so scoped)."""
    return caller.roles.isdisjoint(allowed - {Role.AGENT})


def current_structure(state: Dossier) -> str | None:
    return state.orientation.structure_id if state.orientation else None


def check_case(
    request: Request,
    caller: Principal,
    case_id: UUID,
    allowed: frozenset[Role],
    structure_id: str | None,
    purpose: str,
) -> None:
    """Admit the caller to the case, or refuse (403 for a role never admitted, 404 for an
    agent outside the case's structure); logs the access either way."""
    if caller.roles.isdisjoint(allowed):
        log_case_access(request, caller, case_id, purpose, "refused")
        raise forbidden("Votre rôle ne permet pas cette action sur un dossier.")
    if only_as_agent(caller, allowed) and structure_id not in caller.structures:
        log_case_access(request, caller, case_id, purpose, "hidden")
        raise unknown_case(case_id)
    log_case_access(request, caller, case_id, purpose, "granted")


def listing_structure(caller: Principal, requested: str | None) -> str | None:
    """The structure an agent's list is limited to; other readers list what they ask."""
    if not only_as_agent(caller, READ_ROLES):
        return requested
    if requested is None and caller.primary_structure is not None:
        return caller.primary_structure
    if requested is None or requested not in caller.structures:
        raise ProblemError(
            403,
            "acces_refuse",
            "Accès refusé",
            "Un agent liste les dossiers d'une de ses structures: préciser structure_id.",
            "structure_id",
        )
    return requested
