"""Delay rules as dated data: what "on time" means for each step, and since when.

A rule set names its reference dates and its targets and holds over an effective period. A
statistic reads each episode under the rule set in force on the episode's entry reference date,
unless the caller names another set, in which case the same history is re-read under it.
The shipped sets live in `domain/rules/*.toml`; the loader is in adapters.
"""

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

import msgspec

from domain.dates import add_months
from domain.vocabulary import TypeOrganisme, TypeOrientation

ReferenceEntree = Literal["date_flux", "date_reception_flux", "date_entree"]
"""Which date an entry delay counts from: the CAF/MSA daily transmission (national table 3.1),
the day the structure received the flux, or the day the right took effect."""


class Delai(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A target length: calendar months (clamped to month end) plus days."""

    mois: int = 0
    jours: int = 0

    def echeance(self, depuis: date) -> date:
        """Last day that is still on time for a step due `self` after `depuis`."""
        return add_months(depuis, self.mois) + timedelta(days=self.jours)

    @property
    def libelle(self) -> str:
        parts = []
        if self.mois:
            parts.append(f"{self.mois} mois")
        if self.jours:
            semaines, reste = divmod(self.jours, 7)
            if reste == 0:
                parts.append(f"{semaines} semaine{'s' if semaines > 1 else ''}")
            else:
                parts.append(f"{self.jours} jour{'s' if self.jours > 1 else ''}")
        return " et ".join(parts) or "0 jour"


class RegleDelais(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One rule set: its effective period and every target the statistics and worklists read."""

    nom: str
    libelle: str
    source: str
    du: date
    au: date | None = None
    reference_entree: ReferenceEntree
    orientation: Delai
    """Entry reference date → orientation notification."""
    premier_rdv: Delai
    """Orientation → first accompaniment RDV (social and socio-professional orientations)."""
    cer: dict[TypeOrientation, Delai]
    """Orientation → first contract, by kind of orientation."""
    cer_france_travail: Delai | None = None
    """Orientation to France Travail → contract; None when its contract (PPAE) is not counted."""
    contrat: str = "CER"
    table31_orientation: Delai
    table31_premier_rdv: Delai
    table31_cer: Delai
    convocation: Delai = Delai(jours=15)
    """Entry → first convocation (Ille-et-Vilaine / France Travail experiment)."""
    accompagnement_global: Delai = Delai(jours=21)
    """Orientation → first honoured RDV of an accompagnement global."""
    frequence_rdv: Delai = Delai(mois=2)
    """Longest gap between two RDV of a person in accompaniment."""
    alerte_fin_cer: Delai = Delai(jours=30)
    """How long before its end a contract shows in the worklist."""

    def couvre(self, jour: date) -> bool:
        return self.du <= jour and (self.au is None or jour <= self.au)

    def delai_cer(
        self, type_orientation: TypeOrientation, organisme: TypeOrganisme
    ) -> Delai | None:
        """The contract target for an orientation, or None when its contract is not counted."""
        if organisme is TypeOrganisme.FRANCE_TRAVAIL:
            return self.cer_france_travail
        return self.cer.get(type_orientation)


class RulesError(ValueError):
    """A rule book that cannot be used, naming the rule set and field at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Reglement:
    """Every rule set, ordered by start date: which one holds on a date, or by name."""

    def __init__(self, regles: Iterable[RegleDelais]) -> None:
        ordered = sorted(regles, key=lambda r: r.du)
        if not ordered:
            raise RulesError("Aucun jeu de règles de délais.", "regles")
        names: set[str] = set()
        for previous, current in pairwise(ordered):
            if previous.au is None or previous.au >= current.du:
                raise RulesError(
                    f"Les règles {previous.nom} et {current.nom} se chevauchent.",
                    f"{current.nom}.du",
                )
        for regle in ordered:
            if regle.nom in names:
                raise RulesError(f"Deux jeux de règles s'appellent {regle.nom}.", "nom")
            if regle.au is not None and regle.au < regle.du:
                raise RulesError(f"{regle.nom}: la fin précède le début.", f"{regle.nom}.au")
            names.add(regle.nom)
        self.regles: Sequence[RegleDelais] = tuple(ordered)

    def en_vigueur(self, jour: date) -> RegleDelais:
        """The set in force on `jour`; before the first set, the first one (no older set is
        shipped); in a gap between sets, the one that ended last."""
        chosen = self.regles[0]
        for regle in self.regles:
            if regle.du <= jour:
                chosen = regle
        return chosen

    def par_nom(self, nom: str) -> RegleDelais:
        for regle in self.regles:
            if regle.nom == nom:
                return regle
        raise KeyError(nom)

    @property
    def noms(self) -> list[str]:
        return [r.nom for r in self.regles]
