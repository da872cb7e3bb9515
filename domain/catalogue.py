"""Every event type the log may hold: a case's path events (`EVENT_TYPES` in domain/events.py,
told apart by `is_fait`) and those of other aggregates (reference data, tariff schedules,
cohorts, statements). The store decodes by this catalogue; read models keep only the types
they fold.

The catalogue is read from the union: an event type is declared once, in its union."""

from typing import get_args

from domain.abonnements import AbonnementCree, AbonnementSupprime
from domain.agents import DroitAccorde, DroitRetire
from domain.cohorts import CohorteEnregistree
from domain.ep import SessionEpProgrammee, SessionEpTenue
from domain.events import Evenement, Fait
from domain.payments import EtatEmis
from domain.structures import StructureDeclaree
from domain.tariffs import BaremeAdopte

Enregistrable = (
    Fait
    | CohorteEnregistree
    | StructureDeclaree
    | BaremeAdopte
    | EtatEmis
    | DroitAccorde
    | DroitRetire
    | AbonnementCree
    | AbonnementSupprime
    | SessionEpProgrammee
    | SessionEpTenue
)
"""Every event the log may hold; add another aggregate's event type here."""

ALL_EVENT_TYPES: tuple[type[Evenement], ...] = get_args(Enregistrable)
