"""Bounds on every value a rule lets into the log: one place, shared by the API, the CLI and the
flux, so that no single fact can stop a fold or a read-model store.

An event is immutable once written: a date in year 9999 overflows every calendar computation
after it, a NUL character is refused by PostgreSQL's text type, a 10 MB identifier is copied
into every list that shows it. The rules (`domain.decide`, the structures registry, tariff
adoption, cohort definitions) run `verifier` on what they are given, before anything else,
walking its fields whatever the command: a new command gets these checks with no extra code.

Limits (docs/path-rules.md, "Bounds"), each refusal a DomainError naming the field's path:
- dates from `DATE_MIN` to `horizon(today)`, today plus `HORIZON_MOIS` months
  (`date_hors_limites`); the rules further refuse a future date where a fact must already
  have happened (`date_future`); where no "today" is given, up to `DATE_MAX`;
- free text at most `TEXTE_MAX` characters (`texte_trop_long`), with no control character
  (C0 but tab and line breaks, DEL, C1) nor lone surrogate (`caractere_interdit`);
  identifiers 1 to `IDENTIFIANT_MAX` letters, digits and `IDENTIFIANT_PONCTUATION`
  (`texte_vide`, `texte_trop_long`, `caractere_interdit`); commune codes up to 5 of them;
- integers from 0 to `ENTIER_MAX` (which numbers and versions exist is the rules' business),
  birth years from `DATE_MIN.year` to this year, delays up to `DELAI_MOIS_MAX` months and
  `DELAI_JOURS_MAX` days; decimals finite, from 0 to `MONTANT_MAX` for amounts, to 100 for
  percentages, to `ETP_MAX` for posts (`nombre_hors_limites`);
- lists of at most `LISTE_MAX` items (`liste_trop_longue`).
"""

import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec

from domain.dates import add_months
from domain.errors import DomainError

DATE_MIN = date(1900, 1, 1)
"""No fact of the RSA path (created 2009, the RMI before it in 1988), no birth of a living
allocataire, is older."""

HORIZON_MOIS = 24
"""How far ahead a planned date may lie (a RDV, a contract's start, a declaration or a
schedule taking effect later): two years covers any plan an agent keys in."""

DATE_MAX = date(2099, 12, 31)
"""Ceiling where no "today" is at hand (a schedule document read for a simulation)."""

TEXTE_MAX = 1000
"""Free text (motifs, names, labels): a sentence or a short paragraph."""

IDENTIFIANT_MAX = 80
IDENTIFIANT_PONCTUATION = "-_.@"
IDENTIFIANTS: frozenset[str] = frozenset({"structure_id", "referent_id", "numero_dossier"})
"""Fields naming a structure, a referent or a CAF/MSA file: short, letters, digits and that
punctuation only (no space, no control character)."""

CODE_COMMUNE_MAX = 5
CODES_COMMUNE: frozenset[str] = frozenset({"code_commune", "communes"})

ENTIER_MAX = 1_000_000
DELAI_MOIS_MAX = 120
DELAI_JOURS_MAX = 3660

MONTANT_MAX = Decimal(1_000_000)
"""Euros: more than any one line, subsidy or ceiling a département pays a partner."""
POURCENTAGES: frozenset[str] = frozenset({"bonus_performance_pct"})
ETP_MAX = 1000.0

LISTE_MAX = 1000


@functools.lru_cache(maxsize=16)
def horizon(today: date) -> date:
    """The latest date a planned fact may bear, seen from `today`."""
    return add_months(today, HORIZON_MOIS)


def _refus(code: str, detail: str, path: str) -> DomainError:
    return DomainError(code, f"{path}: {detail}", path)


_IDENTIFIANT = re.compile(r"[\w" + re.escape(IDENTIFIANT_PONCTUATION) + r"]+")
r"""`\w`: the characters `str.isalnum` accepts, and `_`."""


MISE_EN_PAGE = frozenset("\t\n\r")
"""The control characters free text may hold: a motif typed in a text area has lines."""


def _forbidden(text: str) -> str | None:
    """The first control character (but tab and line breaks) or lone surrogate of `text`,
    if any (a printable text, the common case, is answered at C speed)."""
    if text.isprintable():
        return None
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in MISE_EN_PAGE:
            return ch
    return None


def _name(path: str) -> str:
    """The field a path ends on (`tarifs.ccas.asc[0].montant` → montant)."""
    return path.rpartition(".")[2].partition("[")[0]


def verifier_texte(value: str, path: str, name: str | None = None) -> None:
    """A text within bounds; the field's name (by default, the last part of `path`) says
    which rule applies: an identifier, a commune code or free text."""
    name = _name(path) if name is None else name
    if name in IDENTIFIANTS:
        most, allowed = IDENTIFIANT_MAX, IDENTIFIANT_PONCTUATION
    elif name in CODES_COMMUNE:
        most, allowed = CODE_COMMUNE_MAX, ""
    else:
        most, allowed = TEXTE_MAX, None
    if len(value) > most:
        raise _refus("texte_trop_long", f"{len(value)} caractères, au plus {most}.", path)
    if allowed is None:
        bad = _forbidden(value)
    elif not value:
        raise _refus("texte_vide", "identifiant requis.", path)
    elif _IDENTIFIANT.fullmatch(value) if allowed else value.isalnum():
        bad = None
    else:
        bad = next((c for c in value if not (c.isalnum() or c in allowed)), None)
    if bad is not None:
        what = "lettres, chiffres" + (f" et {' '.join(allowed)}" if allowed else "")
        raise _refus(
            "caractere_interdit",
            f"caractère U+{ord(bad):04X} interdit"
            + (f" (un identifiant: {what}, sans espace)." if allowed is not None else "."),
            path,
        )


def _window(today: date | None) -> tuple[date, date]:
    return DATE_MIN, horizon(today) if today is not None else DATE_MAX


def verifier_date(
    value: date, path: str, today: date | None, window: tuple[date, date] | None = None
) -> None:
    """A date inside [DATE_MIN, horizon(today)] (DATE_MAX without a today)."""
    first, latest = window or _window(today)
    day = value.date() if isinstance(value, datetime) else value
    if not first <= day <= latest:
        raise _refus(
            "date_hors_limites",
            f"la date {day.isoformat()} n'est pas entre le {first.isoformat()} "
            f"et le {latest.isoformat()}.",
            path,
        )


def _range(name: str, today: date | None) -> tuple[int, int]:
    if name == "annee_naissance":
        return DATE_MIN.year, (today or DATE_MAX).year
    if name == "mois":
        return 0, DELAI_MOIS_MAX
    if name == "jours":
        return 0, DELAI_JOURS_MAX
    return 0, ENTIER_MAX


def verifier_nombre(
    value: int | float | Decimal, path: str, today: date | None, name: str | None = None
) -> None:
    """A finite number in the domain's range for that field."""
    name = _name(path) if name is None else name
    if isinstance(value, int):
        low, high = _range(name, today)
        if not low <= value <= high:
            raise _refus("nombre_hors_limites", f"un entier de {low} à {high}.", path)
        return
    finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    most: Decimal | float = MONTANT_MAX
    if name in POURCENTAGES:
        most = Decimal(100)
    elif name == "etp":
        most = ETP_MAX
    if not finite or not 0 <= value <= most:
        raise _refus("nombre_hors_limites", f"un nombre fini de 0 à {most}.", path)


def verifier(value: Any, today: date | None, path: str = "") -> None:
    """Every field of `value` (a command, a document, nested structs, lists, mappings) within
    bounds; raises a DomainError naming the first field at fault by its dotted path.
    Optional fields left empty (None) are not checked."""
    _walk(value, path, _name(path), today, _window(today))


_SKIP, _STRUCT, _TEXT, _DATE, _NUMBER, _SEQUENCE, _MAPPING = range(7)
_KINDS: dict[type, int] = {}


def _kind(kind: type) -> int:
    """How a value of this type is checked (decided once per type: commands are walked on
    every write, the flux's in bulk)."""
    found = _KINDS.get(kind)
    if found is None:
        if issubclass(kind, bool | Enum | UUID) or kind is type(None):
            found = _SKIP
        elif issubclass(kind, msgspec.Struct):
            found = _STRUCT
        elif issubclass(kind, str):
            found = _TEXT
        elif issubclass(kind, date):
            found = _DATE
        elif issubclass(kind, int | float | Decimal):
            found = _NUMBER
        elif issubclass(kind, list | tuple | set | frozenset):
            found = _SEQUENCE
        elif issubclass(kind, Mapping):
            found = _MAPPING
        else:
            found = _SKIP
        _KINDS[kind] = found
    return found


def _walk(value: Any, path: str, name: str, today: date | None, window: tuple[date, date]) -> None:
    kind = _kind(type(value))
    if kind == _SKIP:
        return
    if kind == _STRUCT:
        prefix = f"{path}." if path else ""
        for field in value.__struct_fields__:
            item = getattr(value, field)
            if _KINDS.get(type(item)) != _SKIP:
                _walk(item, prefix + field, field, today, window)
    elif kind == _TEXT:
        verifier_texte(value, path or "valeur", name)
    elif kind == _DATE:
        verifier_date(value, path or "date", today, window)
    elif kind == _NUMBER:
        verifier_nombre(value, path or "nombre", today, name)
    elif len(value) > LISTE_MAX:
        raise _refus("liste_trop_longue", f"au plus {LISTE_MAX} éléments.", path)
    elif kind == _SEQUENCE:
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", name, today, window)
    else:
        for key, item in value.items():
            label = key.value if isinstance(key, Enum) else str(key)
            _walk(key, f"{path}.{label}", label, today, window)
            _walk(item, f"{path}.{label}", label, today, window)


def verifier_champs(today: date | None, **fields: Any) -> None:
    """`verifier` for values given by name (a rule whose input is not one struct)."""
    window = _window(today)
    for name, value in fields.items():
        _walk(value, name, name, today, window)
