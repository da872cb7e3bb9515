"""Every event type the log may hold: a case's path events and those of other aggregates
(reference data, tariff schedules, flux imports). The store decodes by this catalogue; read
models keep only the types they fold (`CASE_EVENT_TYPES` for a case's path)."""

from domain.cohorts import COHORT_EVENT_TYPES
from domain.events import EVENT_TYPES, Evenement
from domain.payments import STATEMENT_EVENT_TYPES
from domain.structures import STRUCTURE_EVENT_TYPES
from domain.tariffs import TARIFF_EVENT_TYPES

CASE_EVENT_TYPES: tuple[type[Evenement], ...] = EVENT_TYPES
"""Events of an allocataire's case (originator = the case)."""

ALL_EVENT_TYPES: tuple[type[Evenement], ...] = (
    *CASE_EVENT_TYPES,
    *COHORT_EVENT_TYPES,
    *STRUCTURE_EVENT_TYPES,
    *TARIFF_EVENT_TYPES,
    *STATEMENT_EVENT_TYPES,
)
"""Add other aggregates' event types here, one module each."""


_CASE_TYPES = frozenset(CASE_EVENT_TYPES)


def is_case_event(event: Evenement) -> bool:
    return type(event) in _CASE_TYPES
