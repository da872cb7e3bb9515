"""Partner structures as reference data: what kind of organism each one is and how many
full-time accompaniment posts (ETP) it holds from which date.

Financing prices a step by the kind of its partner (a CCAS and an association are not paid the
same) and subsidises an AAVE per ETP; both read this registry. Each structure is a small
aggregate of its own (one per id) whose declarations stay in the log: a re-declaration with a
later `effective_on` changes the values from that date, the earlier ones still hold before it.
"""

import itertools
import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import msgspec

from domain.bounds import verifier_champs
from domain.errors import DomainError
from domain.events import Evenement
from domain.vocabulary import TypeOrganisme


class StructureDeclaree(Evenement, frozen=True, kw_only=True):
    """A structure's name, kind and ETP, holding from `effective_on`."""

    structure_id: str
    nom: str
    type_organisme: TypeOrganisme
    etp: float | None = None
    """Full-time accompaniment posts (AAVE subsidies are per ETP); None when not counted."""


_NAMESPACE = uuid.UUID("0b6c5f7e-3f0a-4d55-8c1e-7a9d2b41e6f3")


def structure_aggregate_id(structure_id: str) -> uuid.UUID:
    """The aggregate of a structure id: the same id always designates the same history."""
    return uuid.uuid5(_NAMESPACE, structure_id)


def valider(
    structure_id: str, nom: str, etp: float | None, effective_on: date, today: date
) -> None:
    """Refuse a declaration no one could use, naming the field at fault: the registry's own
    rules, then the bounds every fact of the log keeps (`domain.bounds`)."""
    if (
        not structure_id
        or len(structure_id) > 80
        or not all(c.isalnum() or c in "-_." for c in structure_id)
    ):
        raise DomainError(
            "structure_invalide",
            "Identifiant de structure: 1 à 80 lettres, chiffres, '-', '_' ou '.'.",
            field="structure_id",
        )
    if not nom.strip() or len(nom) > 200:
        raise DomainError("nom_invalide", "Nom: 1 à 200 caractères.", field="nom")
    if etp is not None and not (0 <= etp <= 1000):
        raise DomainError("etp_invalide", "ETP: un nombre de 0 à 1000.", field="etp")
    verifier_champs(today, structure_id=structure_id, nom=nom, etp=etp, effective_on=effective_on)


class Structure(msgspec.Struct, frozen=True, kw_only=True):
    """A structure as last declared, with every dated declaration of its ETP."""

    structure_id: str
    nom: str
    type_organisme: TypeOrganisme
    etp: float | None
    depuis: date
    declarations: list[tuple[date, float | None]]
    """(effective_on, etp), by effective date."""


class StructureRegistry:
    """Every declared structure: its kind, and its ETP on a given day."""

    def __init__(self, declarations: Iterable[StructureDeclaree] = ()) -> None:
        by_id: dict[str, list[StructureDeclaree]] = {}
        for d in declarations:
            by_id.setdefault(d.structure_id, []).append(d)
        self._structures: dict[str, Structure] = {}
        for sid, items in by_id.items():
            # Stable sort: for the same effective date, the later declaration wins.
            ordered = sorted(items, key=lambda d: d.effective_on)
            last = ordered[-1]
            dated: dict[date, float | None] = {}
            for d in ordered:
                dated[d.effective_on] = d.etp
            self._structures[sid] = Structure(
                structure_id=sid,
                nom=last.nom,
                type_organisme=last.type_organisme,
                etp=last.etp,
                depuis=last.effective_on,
                declarations=sorted(dated.items()),
            )

    def get(self, structure_id: str) -> Structure | None:
        return self._structures.get(structure_id)

    def type_of(self, structure_id: str) -> TypeOrganisme | None:
        s = self._structures.get(structure_id)
        return s.type_organisme if s else None

    def etp_on(self, structure_id: str, day: date) -> float | None:
        """The ETP declared for `day` (None before the first declaration or when not given)."""
        s = self._structures.get(structure_id)
        if s is None:
            return None
        found: float | None = None
        for since, etp in s.declarations:
            if since <= day:
                found = etp
        return found

    def etp_days(self, structure_id: str, du: date, au: date) -> Decimal:
        """ETP × days over [du, au], for a subsidy pro rata of the posts actually held."""
        s = self._structures.get(structure_id)
        total = Decimal(0)
        if s is None or au < du:
            return total
        bounds = [*s.declarations, (date.max, None)]
        for (since, etp), (until, _) in itertools.pairwise(bounds):
            start, end = max(since, du), min(date.fromordinal(until.toordinal() - 1), au)
            if etp and end >= start:
                total += Decimal(str(etp)) * ((end - start).days + 1)
        return total

    def etp_moyen(self, structure_id: str, du: date, au: date) -> float | None:
        """The mean ETP over [du, au] (days without a declared ETP count as 0); None when
        none was declared for any of those days."""
        total = self.etp_days(structure_id, du, au)
        return float(total) / ((au - du).days + 1) if total else None

    def all(self) -> list[Structure]:
        return [self._structures[k] for k in sorted(self._structures)]
