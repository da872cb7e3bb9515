"""Who may do what to a case: the roles each step admits, and an agent's reach limited to the
cases one of its structures accompanies today (anything else answers 404, as an unknown case
would, so that existence does not leak), and on those, to the steps its accompaniment admits."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from uuid import UUID

import structlog
from fastapi import Request

from adapters.eventlog.store import STORE_ERRORS
from adapters.readmodels.quarantine import describe
from api.http.auth import Principal, Role, forbidden, log_case_access
from api.http.problems import ProblemError
from api.http.steps import CORRECTIONS, ENTREE, STEPS
from domain.commands import Commande, Famille, TenirEntretienAsc
from domain.dossier import Dossier
from domain.errors import DomainError
from domain.vocabulary import ObjetAccompagnement

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
"""Roles that read cases; an agent only the cases its structures accompany."""


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


Accompagnants = Mapping[str, frozenset[ObjetAccompagnement]]
"""The structures accompanying a person today, each with why (`Dossier.accompagnants`)."""

OBJET_STEPS: dict[ObjetAccompagnement, frozenset[type[Commande]] | None] = {
    ObjetAccompagnement.REFERENT: None,
    ObjetAccompagnement.ASC: frozenset({TenirEntretienAsc}),
}
"""The steps an agent records on a case its structure accompanies for each purpose (None:
every step its role admits); reading the case comes with any."""


def accompanying(state: Dossier) -> dict[str, frozenset[ObjetAccompagnement]]:
    return state.accompagnants


def _admits(objets: frozenset[ObjetAccompagnement], step: type[Commande]) -> bool:
    return any((steps := OBJET_STEPS[objet]) is None or step in steps for objet in sorted(objets))


def check_case(
    request: Request,
    caller: Principal,
    case_id: UUID,
    allowed: frozenset[Role],
    accompagnants: Accompagnants,
    purpose: str,
    step: type[Commande] | None = None,
) -> str | None:
    """Admit the caller to the case, or refuse (403 for a role never admitted, 404 for an
    agent none of whose structures accompanies the person, 403 for a `step` its accompaniment
    does not admit); logs the access either way. Returns, for an agent, the structure it acts
    as: one of its structures accompanying the person (for `step`, one admitting it, the
    référent first)."""
    if caller.roles.isdisjoint(allowed):
        log_case_access(request, caller, case_id, purpose, "refused")
        raise forbidden("Votre rôle ne permet pas cette action sur un dossier.")
    if not only_as_agent(caller, allowed):
        log_case_access(request, caller, case_id, purpose, "granted")
        return None
    reach = {s: objets for s, objets in accompagnants.items() if s in caller.structures}
    if not reach:
        log_case_access(request, caller, case_id, purpose, "hidden")
        raise unknown_case(case_id)
    acting = sorted(
        (s for s, objets in reach.items() if step is None or _admits(objets, step)),
        key=lambda s: (ObjetAccompagnement.REFERENT not in reach[s], s),
    )
    if not acting:
        log_case_access(request, caller, case_id, purpose, "refused")
        raise forbidden("L'accompagnement de votre structure ne permet pas cette étape.")
    log_case_access(request, caller, case_id, purpose, "granted")
    return acting[0]


def admissible(
    caller: Principal,
    allowed: frozenset[Role],
    accompagnants: Accompagnants,
    step: type[Commande] | None = None,
) -> bool:
    """Whether `check_case` would admit the caller (nothing logged nor raised): to offer on a
    screen only what its route admits."""
    if caller.roles.isdisjoint(allowed):
        return False
    if not only_as_agent(caller, allowed):
        return True
    return any(
        s in caller.structures and (step is None or _admits(objets, step))
        for s, objets in accompagnants.items()
    )


def check_asc_author(
    request: Request,
    caller: Principal,
    case_id: UUID,
    accompagnants: Accompagnants,
    acting: str,
    command: TenirEntretienAsc,
) -> None:
    """An agent whose structure accompanies the person for an ASC alone records the interviews
    its own structure held (the référent may key those of another structure)."""
    if command.structure_id == acting or ObjetAccompagnement.REFERENT in accompagnants.get(
        acting, frozenset()
    ):
        return
    log_case_access(request, caller, case_id, "entretien d'une autre structure", "refused")
    raise forbidden("Votre structure enregistre ses propres entretiens d'appui social.")


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
