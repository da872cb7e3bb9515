"""Automatic orientation on entry: a dated rule set, as data (like a tariff grid).

A rule set applies from its `depuis` date; the newest one in force on the entry date decides.
Each rule maps what the flux (or the département) knows of a person to an orientation; a person
no rule matches is left for a "réunion de situation" (no event).
"""

from dataclasses import dataclass
from datetime import date

from domain.commands import DeciderOrientation
from domain.vocabulary import ModeOrientation, TypeOrganisme, TypeOrientation


@dataclass(frozen=True, slots=True)
class Situation:
    """What the rules look at."""

    inscrit_pole_emploi: bool
    suivi_departement: bool


@dataclass(frozen=True, slots=True)
class Regle:
    condition: str
    """`inscrit_pole_emploi` or `suivi_departement`: the Situation field that must be true."""
    type_orientation: TypeOrientation
    organisme: TypeOrganisme
    structure_id: str


@dataclass(frozen=True, slots=True)
class JeuDeRegles:
    departement: str
    depuis: date
    regles: tuple[Regle, ...]


SEINE_ET_MARNE = JeuDeRegles(
    departement="077",
    depuis=date(2020, 1, 1),
    regles=(
        Regle(
            "inscrit_pole_emploi",
            TypeOrientation.PROFESSIONNELLE,
            TypeOrganisme.FRANCE_TRAVAIL,
            "france_travail",
        ),
        Regle(
            "suivi_departement",
            TypeOrientation.SOCIALE,
            TypeOrganisme.DEPARTEMENT,
            "departement",
        ),
    ),
)

JEUX: tuple[JeuDeRegles, ...] = (SEINE_ET_MARNE,)


def en_vigueur(jeux: tuple[JeuDeRegles, ...], on: date) -> JeuDeRegles | None:
    """The newest rule set in force on `on`."""
    valid = [j for j in jeux if j.depuis <= on]
    return max(valid, key=lambda j: j.depuis) if valid else None


def orienter(jeu: JeuDeRegles, situation: Situation, on: date) -> DeciderOrientation | None:
    """The first matching rule's orientation, marked automatic; None: réunion de situation."""
    for regle in jeu.regles:
        if getattr(situation, regle.condition):
            return DeciderOrientation(
                effective_on=on,
                type_orientation=regle.type_orientation,
                organisme=regle.organisme,
                structure_id=regle.structure_id,
                mode=ModeOrientation.AUTOMATIQUE,
            )
    return None
