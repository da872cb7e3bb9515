"""Tariff schedules as data: what the département pays its partners, per kind of structure, over
an effective period, and the adoption of a schedule as an event.

A schedule (`Bareme`) is a versioned document (TOML or JSON) decoded and validated with msgspec.
Amounts are written in euros (at most two decimals) and priced in integer cents. Where the
conventions are silent, the schedule carries an explicit option (`Options`) whose default is
what the Val-de-Marne deliberation reads most naturally as (docs/finance.md).

Adopting a schedule (`BaremeAdopte`) records who adopted which document (embedded, with its
content hash), from when and why, on the département's one tariff aggregate: the history of the
rules is as auditable as the history of the cases. The schedule in force for a step is the
latest adoption whose period covers the step's date and which prices that kind of structure.
"""

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

from domain.bounds import MONTANT_MAX, verifier, verifier_champs
from domain.delais import Delai
from domain.errors import DomainError
from domain.events import Evenement
from domain.vocabulary import TypeOrganisme


class TariffError(ValueError):
    """A schedule that cannot be used, naming the field at fault (and, for a bound it
    breaks, the bound's code: `domain.bounds`)."""

    def __init__(self, message: str, field: str, code: str = "bareme_invalide") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def cents(euros: Decimal) -> int:
    """Euros (two decimals at most) as integer cents."""
    return int((euros * 100).to_integral_value(rounding=ROUND_HALF_UP))


MONTANT_ENREGISTRE_MAX = Decimal(10_000_000)
"""The ceiling of an amount in a schedule already adopted: what the log has accepted must
decode for ever. A new schedule is held to the tighter `domain.bounds.MONTANT_MAX`."""


def _amount(value: Decimal | None, name: str) -> None:
    """Finite, positive, to the cent and under the ceiling of what the log holds (checked in
    that order: quantizing 1e308 or NaN is itself an error)."""
    if value is None:
        return
    if (
        not value.is_finite()
        or not 0 <= value <= MONTANT_ENREGISTRE_MAX
        or value != value.quantize(Decimal("0.01"))
    ):
        raise ValueError(f"{name}: un montant en euros de 0 à {MONTANT_MAX}, au centime près")


class Palier(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """ASC: from `a_partir_de` interviews in the year, the year is paid `montant`."""

    a_partir_de: int
    montant: Decimal

    def __post_init__(self) -> None:
        if self.a_partir_de < 1:
            raise ValueError("a_partir_de: au moins 1 entretien")
        _amount(self.montant, "montant")


class Tarifs(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What one kind of structure is paid; a missing amount means the step is not paid."""

    cer: Decimal | None = None
    """Each CER signed (RUS) with a structure of this kind."""
    cer_renouvellement: bool = True
    """Whether a renewal is paid as a new contract (Val-de-Marne: "created or renewed")."""
    bonus_premier_entretien: Decimal | None = None
    """Added to the contract when the first interview is held within `delai_premier_entretien`
    of the date the structure received the flux."""
    delai_premier_entretien: Delai = Delai(mois=2)
    bonus_sortie_positive: Decimal | None = None
    """Added to the contract in force at a positive exit, at most once a calendar year."""
    plafond_contrat: Decimal | None = None
    """Most a contract may be paid, bonuses included."""
    asc: list[Palier] = msgspec.field(default_factory=list)
    """ASC tiers by number of interviews in the year, ascending."""
    eio: Decimal | None = None
    """Each entretien d'instruction et d'orientation held (an orientation interview seen)."""
    subvention_etp: Decimal | None = None
    """Yearly subsidy per full-time accompaniment post (AAVE)."""
    bonus_performance_pct: Decimal | None = None
    """Percentage of the subsidy added when every AAVE reference value is met."""
    plafond_etp: Decimal | None = None
    """Most a year's subsidy may reach per ETP, bonus included."""

    def __post_init__(self) -> None:
        for name in (
            "cer",
            "bonus_premier_entretien",
            "bonus_sortie_positive",
            "plafond_contrat",
            "eio",
            "subvention_etp",
            "plafond_etp",
        ):
            _amount(getattr(self, name), name)
        pct = self.bonus_performance_pct
        if pct is not None and not (pct.is_finite() and 0 <= pct <= 100):
            raise ValueError("bonus_performance_pct: un pourcentage de 0 à 100")
        seuils = [p.a_partir_de for p in self.asc]
        if seuils != sorted(set(seuils)):
            raise ValueError("asc: paliers par nombre d'entretiens croissant, sans doublon")

    def palier_asc(self, entretiens: int) -> Palier | None:
        found = None
        for palier in self.asc:
            if palier.a_partir_de <= entretiens:
                found = palier
        return found


CerCourt = Literal["plein_tarif", "prorata"]
AnneeAsc = Literal["civile", "accompagnement"]
BonusEntretien = Literal["creation", "chaque_contrat"]


class Options(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the schedule reads the cases its conventions are silent about."""

    cer_court: CerCourt = "plein_tarif"
    """A CER shorter than 12 months: the full price (default: the grid prices a contract, the
    convention year is the partner's), or `prorata` of its months over 12."""
    annee_asc: AnneeAsc = "civile"
    """Which interviews an ASC year counts: those of each calendar year (default: conventions
    and statements are yearly), or `accompagnement`: 12 months from the first interview."""
    bonus_premier_entretien: BonusEntretien = "creation"
    """The first-interview bonus goes to the contract created in the episode (default: there
    is one first interview per entry), or to `chaque_contrat`, renewals included."""


class Bareme(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tariff schedule: its identity, effective period, options and rates by structure kind."""

    nom: str
    version: int = 1
    libelle: str = ""
    source: str = ""
    du: date
    au: date | None = None
    options: Options = Options()
    tarifs: dict[TypeOrganisme, Tarifs]

    def __post_init__(self) -> None:
        if (
            not self.nom
            or len(self.nom) > 80
            or not all(c.isalnum() or c in "-_." for c in self.nom)
        ):
            raise ValueError("nom: 1 à 80 lettres, chiffres, '-', '_' ou '.'")
        if self.version < 1:
            raise ValueError("version: un entier à partir de 1")
        if self.au is not None and self.au < self.du:
            raise ValueError("au: la fin précède le début")
        if not self.tarifs:
            raise ValueError("tarifs: au moins un type de structure")

    def couvre(self, jour: date) -> bool:
        return self.du <= jour and (self.au is None or jour <= self.au)

    @property
    def ref(self) -> str:
        """How lines name the schedule that priced them."""
        return f"{self.nom}@v{self.version}"

    def empreinte(self) -> str:
        """SHA-256 of the document's canonical JSON: what an adoption pins."""
        return "sha256:" + hashlib.sha256(msgspec.json.encode(self, order="sorted")).hexdigest()


def field_of(error: msgspec.ValidationError, prefix: str = "") -> str:
    """The document path msgspec names (`$.options.cer_court` → options.cer_court); for a
    check of ours on a whole table, the field its message starts with."""
    message = str(error)
    path = ""
    if "- at `$" in message:
        path = message.rpartition("- at `$")[2].rstrip("`").lstrip(".")
    head = message.partition(":")[0]
    if head.isidentifier() and not path.endswith(head):
        path = f"{path}.{head}" if path else head
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named['field']}" if path else named["field"]
    full = ".".join(p for p in (prefix, path) if p)
    return full or "bareme"


_NAMED = re.compile(r"(?:missing required|unknown) field `(?P<field>[^`]+)`")
KINDS = frozenset(t.value for t in TypeOrganisme)


def bareme_from(raw: object) -> Bareme:
    """A schedule from its decoded document (a mapping); TariffError names the field at fault,
    down to the structure kind (`tarifs.ccas.cer`)."""
    if not isinstance(raw, dict):
        raise TariffError("le barème est une table (un objet JSON)", "bareme")
    tarifs = raw.get("tarifs")
    if isinstance(tarifs, dict):
        for kind, table in tarifs.items():
            if kind not in KINDS:
                known = ", ".join(sorted(KINDS))
                raise TariffError(f"type de structure inconnu {kind!r} ({known})", f"tarifs.{kind}")
            try:
                msgspec.convert(table, Tarifs)
            except msgspec.ValidationError as e:
                raise TariffError(str(e), field_of(e, f"tarifs.{kind}")) from e
    try:
        bareme = msgspec.convert(raw, Bareme)
    except msgspec.ValidationError as e:
        raise TariffError(str(e), field_of(e)) from e
    try:
        verifier(bareme, None)
    except DomainError as e:
        field = e.field or "bareme"
        raise TariffError(e.detail.removeprefix(f"{field}: "), field, e.code) from e
    return bareme


def decode_bareme(raw: bytes, fmt: Literal["toml", "json"]) -> Bareme:
    """A schedule from its document's bytes; TariffError names the field at fault."""
    try:
        document = msgspec.toml.decode(raw) if fmt == "toml" else msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        raise TariffError(f"document illisible: {e}", "bareme") from e
    return bareme_from(document)


# --- adoption -------------------------------------------------------------------------------


class BaremeAdopte(Evenement, frozen=True, kw_only=True):
    """A schedule adopted from `effective_on` (its start, possibly in the past)."""

    motif: str
    empreinte: str
    bareme: Bareme


def valider_adoption(bareme: Bareme, motif: str, today: date) -> None:
    """Refuse an adoption the tariff book should not keep: a motif is said in 1 to 1000
    characters, and the schedule's period lies in the bounds seen from today
    (`domain.bounds.horizon`): a schedule may be adopted ahead, not for a century."""
    if not motif.strip() or len(motif) > 1000:
        raise DomainError("motif_invalide", "Motif d'adoption: 1 à 1000 caractères.", field="motif")
    verifier_champs(today, motif=motif)
    verifier(bareme, today, "bareme")


TARIFF_BOOK_ID = uuid.uuid5(uuid.UUID("9d3a1f0c-52e4-4b8e-a7c6-1e0f4d2b8a95"), "baremes")
"""The département's one tariff aggregate: adoptions are ordered by its versions."""


class Adoption(msgspec.Struct, frozen=True, kw_only=True):
    """An adoption as read back: which document, when, by whom, why."""

    version: int
    """The adoption's place in the tariff book (later wins)."""
    bareme: Bareme
    empreinte: str
    motif: str
    adopte_le: datetime
    adopte_par: str


class Tarification:
    """Which schedule prices a step: given a date and a kind of structure."""

    def pour(self, jour: date, organisme: TypeOrganisme) -> Bareme | None:  # pragma: no cover
        raise NotImplementedError

    def references(self) -> list[str]:  # pragma: no cover
        raise NotImplementedError


class EnVigueur(Tarification):
    """The adopted schedules: for a date and a kind, the latest adoption whose period covers the
    date and which prices that kind (so a département may adopt its AAVE grid apart)."""

    def __init__(self, adoptions: Iterable[Adoption]) -> None:
        self.adoptions: Sequence[Adoption] = sorted(adoptions, key=lambda a: a.version)
        self._latest_first = list(reversed(self.adoptions))
        self._memo: dict[tuple[date, TypeOrganisme], Bareme | None] = {}

    def pour(self, jour: date, organisme: TypeOrganisme) -> Bareme | None:
        key = (jour, organisme)
        if key in self._memo:
            return self._memo[key]
        found = None
        for a in self._latest_first:
            if organisme in a.bareme.tarifs and a.bareme.couvre(jour):
                found = a.bareme
                break
        self._memo[key] = found
        return found

    def references(self) -> list[str]:
        return [f"{a.bareme.ref} ({a.empreinte}, adoption n°{a.version})" for a in self.adoptions]


class Simule(Tarification):
    """A candidate schedule applied to every date asked (a simulation over a past period,
    whatever its own period); the kinds of structure it does not price stay under `autres`
    (the schedules in force), as they would once it is adopted."""

    def __init__(self, bareme: Bareme, autres: Tarification | None = None) -> None:
        self.bareme = bareme
        self.autres = autres

    def pour(self, jour: date, organisme: TypeOrganisme) -> Bareme | None:
        if organisme in self.bareme.tarifs:
            return self.bareme
        return self.autres.pour(jour, organisme) if self.autres is not None else None

    def references(self) -> list[str]:
        own = f"{self.bareme.ref} ({self.bareme.empreinte()}, simulé)"
        return [own, *(self.autres.references() if self.autres is not None else [])]
