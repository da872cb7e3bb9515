"""Every event type the log may hold: a case's path events and those of other aggregates
(reference data, tariff schedules, flux imports). The store decodes by this catalogue; read
models keep only the types they fold (`CASE_EVENT_TYPES` for a case's path).

Both lists are read from the unions: an event type is declared once, in its union."""

from typing import get_args

from domain.cohorts import CohorteEnregistree
from domain.events import EVENT_TYPES, Evenement, Fait, is_fait
from domain.payments import EtatEmis
from domain.structures import StructureDeclaree
from domain.tariffs import BaremeAdopte

CASE_EVENT_TYPES: tuple[type[Evenement], ...] = EVENT_TYPES
"""Events of an allocataire's case (originator = the case)."""

Enregistrable = Fait | CohorteEnregistree | StructureDeclaree | BaremeAdopte | EtatEmis
"""Every event the log may hold; add another aggregate's event type here."""

ALL_EVENT_TYPES: tuple[type[Evenement], ...] = get_args(Enregistrable)

is_case_event = is_fait
