"""Cohort definitions for evaluation: who to follow, saved by name as events of their own small
aggregate (one per name), so that every definition ever used for an extract stays in the log.

A cohort is a set of person-episodes: an entry (or re-entry) whose date, profile at entry and
first orientation match the definition. Criteria left empty do not filter.
"""

import uuid
from datetime import date

import msgspec

from domain.bounds import verifier
from domain.errors import DomainError
from domain.events import Evenement
from domain.vocabulary import Sexe, TypeOrientation
from domain.vocabulary import TrancheAge as TrancheAge

_BORNES: tuple[tuple[int, TrancheAge], ...] = (
    (25, TrancheAge.MOINS_25),
    (30, TrancheAge.DE_25_29),
    (40, TrancheAge.DE_30_39),
    (50, TrancheAge.DE_40_49),
    (60, TrancheAge.DE_50_59),
)


def tranche_age(annee_naissance: int | None, annee_entree: int) -> TrancheAge | None:
    """Band of the age reached in the year of entry (the birth year is all the log knows)."""
    if annee_naissance is None:
        return None
    age = annee_entree - annee_naissance
    for borne, tranche in _BORNES:
        if age < borne:
            return tranche
    return TrancheAge.PLUS_60


class DefinitionCohorte(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Criteria of a cohort; an empty list or a None means "no filter on this"."""

    entree_du: date | None = None
    entree_au: date | None = None
    """Entry period, both ends included (the episode's effective entry date)."""
    communes: list[str] = msgspec.field(default_factory=list)
    """INSEE codes of the commune of residence at entry."""
    structures: list[str] = msgspec.field(default_factory=list)
    """Structure of the episode's first orientation."""
    types_orientation: list[TypeOrientation] = msgspec.field(default_factory=list)
    """Kind of the episode's first orientation."""
    tranches_age: list[TrancheAge] = msgspec.field(default_factory=list)
    sexes: list[Sexe] = msgspec.field(default_factory=list)
    soumis_droits_devoirs: bool | None = None


class CohorteEnregistree(Evenement, frozen=True, kw_only=True):
    """A cohort definition saved (or replaced) under its name."""

    nom: str
    definition: DefinitionCohorte


_NAMESPACE = uuid.UUID("6f1c0a52-8d3e-4c7b-9a41-2b7f3d0e9c15")


def cohort_id(nom: str) -> uuid.UUID:
    """The aggregate of a name: the same name always designates the same definition's history."""
    return uuid.uuid5(_NAMESPACE, nom)


def valider(nom: str, definition: DefinitionCohorte, today: date | None = None) -> None:
    """Refuse a definition no extract could use, naming the field at fault: the cohort's own
    rules, then the bounds every fact of the log keeps (`domain.bounds`)."""
    if not nom or len(nom) > 80 or not all(c.isalnum() or c in "-_." for c in nom):
        raise DomainError(
            "nom_cohorte_invalide",
            "Nom: 1 à 80 lettres, chiffres, '-', '_' ou '.'.",
            field="nom",
        )
    if (
        definition.entree_du is not None
        and definition.entree_au is not None
        and definition.entree_au < definition.entree_du
    ):
        raise DomainError(
            "periode_invalide",
            "La fin de la période d'entrée précède son début.",
            field="entree_au",
        )
    for code in definition.communes:
        if len(code) != 5 or not code[:2].isalnum() or not code[2:].isdigit():
            raise DomainError(
                "commune_invalide",
                f"{code!r} n'est pas un code commune INSEE (5 caractères).",
                field="communes",
            )
    verifier(definition, today)
