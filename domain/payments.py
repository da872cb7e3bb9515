"""What the département pays its partners, as values: payable lines, statements and their
adjustments, and the issuing of a statement as an event.

Pricing (projections.pricing) makes the lines; a statement (`Etat`) for a partner and a period
gathers them with the adjustments owed on earlier statements (projections.statements). Issuing one
records it whole (`EtatEmis`) on the partner's statements aggregate: what was issued is read back
exactly as issued, whatever happens to the cases or the schedules afterwards.
"""

import calendar
import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

import msgspec

from domain.events import Evenement
from domain.vocabulary import TypeOrganisme


class Etape(StrEnum):
    CER = "cer"
    BONUS_PREMIER_ENTRETIEN = "bonus_premier_entretien"
    BONUS_SORTIE_POSITIVE = "bonus_sortie_positive"
    ASC = "asc"
    EIO = "eio"
    SUBVENTION_AAVE = "subvention_aave"
    BONUS_AAVE = "bonus_aave"


LIBELLES_ETAPE: dict[Etape, str] = {
    Etape.CER: "CER signé",
    Etape.BONUS_PREMIER_ENTRETIEN: "Bonus premier entretien dans le délai",
    Etape.BONUS_SORTIE_POSITIVE: "Bonus sortie positive",
    Etape.ASC: "Appui social complémentaire",
    Etape.EIO: "Entretien d'instruction et d'orientation",
    Etape.SUBVENTION_AAVE: "Subvention AAVE par ETP",
    Etape.BONUS_AAVE: "Bonification AAVE",
}


class Ligne(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One payable line: who is paid, for whom, for what, how much, by which rule, why."""

    partenaire: str
    type_organisme: TypeOrganisme
    case_id: UUID | None
    """The allocataire's case; None for a structure's subsidy."""
    etape: Etape
    reference: str
    """What the line pays for within its case (contract n°, year…): with the partner, the case
    and the step, the line's identity from one pricing to the next."""
    du: date
    au: date
    """The span the line pays for (a contract's months, an ASC or subsidy year)."""
    le: date
    """The date placing the line in a statement's period."""
    montant: int
    """Cents."""
    regle: str
    """`<schedule>@v<version>/<kind>/<rule>`."""
    evenements: list[int]
    """Versions of the case's events that triggered the line."""
    detail: str = ""

    @property
    def cle(self) -> str:
        case = self.case_id.hex if self.case_id is not None else "-"
        return f"{self.partenaire}|{case}|{self.etape.value}|{self.reference}"


_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|T(?P<quarter>[1-4])))?$")


def bornes(periode: str) -> tuple[date, date]:
    """`2022` (year), `2022-T1` (quarter) or `2022-03` (month) as its first and last days."""
    m = _PERIOD.match(periode)
    if m is None or not 2000 <= int(m["year"]) <= 2100:
        raise ValueError("période: AAAA, AAAA-Tn (trimestre) ou AAAA-MM")
    year = int(m["year"])
    if m["month"]:
        month = int(m["month"])
        if not 1 <= month <= 12:
            raise ValueError("période: mois de 01 à 12")
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if m["quarter"]:
        first = 3 * (int(m["quarter"]) - 1) + 1
        last = first + 2
        return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    return date(year, 1, 1), date(year, 12, 31)


class Ajustement(msgspec.Struct, frozen=True, kw_only=True):
    """A line paid by an earlier statement whose amount is now different (or a late line)."""

    cle: str
    partenaire: str
    case_id: UUID | None
    etape: Etape
    reference: str
    motif: Literal["annulee", "modifiee", "tardive"]
    montant_emis: int
    """What earlier statements paid for this line (cents)."""
    montant_actuel: int
    montant: int
    """The difference now owed (negative: to be recovered)."""
    etats: list[str]
    """The statements that paid it."""
    ligne: Ligne | None = None
    """The line as priced now (None when it is gone)."""


class Etat(msgspec.Struct, frozen=True, kw_only=True):
    """A statement for one partner and one period: as drafted now, or as issued."""

    id: str
    partenaire: str
    type_organisme: TypeOrganisme | None
    periode: str
    du: date
    au: date
    statut: Literal["projet", "emis"]
    emis_le: datetime | None = None
    emis_par: str | None = None
    position: int
    """The log position the activity read had reached."""
    baremes: list[str]
    """The schedules (and their content hashes) in force when it was drawn up."""
    lignes: list[Ligne]
    ajustements: list[Ajustement]
    total_lignes: int
    total_ajustements: int
    total: int


def etat_id(partenaire: str, periode: str) -> str:
    return f"{partenaire}/{periode}"


class EtatEmis(Evenement, frozen=True, kw_only=True):
    """A statement issued: its lines, adjustments and totals as they were on that day."""

    etat: Etat


_NAMESPACE = uuid.UUID("c2f1e6d4-7b3a-4e21-9f5c-8a0d3b6e1f27")


def statements_id(partenaire: str) -> uuid.UUID:
    """The aggregate holding one partner's issued statements, in the order issued."""
    return uuid.uuid5(_NAMESPACE, partenaire)
