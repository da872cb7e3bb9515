"""Streaming reader of a vrsb0801 flux (windows-1252).

One pass parses the file, validates it against the published schema (the envelope, then each
household on its own) and extracts each household
into a compact record spilled to a temporary file; nothing is written to the store until the
whole file has validated. The import then reads the spill back household by household. Elements
are cleared once read, so memory stays flat whatever the file size.
"""

import struct
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import IO, Any

import msgspec
from lxml import etree

SCHEMA = Path(__file__).with_name("vrsb0801.xsd")


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


class FluxInvalide(Exception):
    """The file is not a valid vrsb0801 flux: nothing of it is imported."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"ligne {line}: {reason}")
        self.line = line
        self.reason = reason


class EnTete(msgspec.Struct, frozen=True, kw_only=True):
    type_flux: str
    """I: daily (new applications), M: monthly (whole stock)."""
    date_creation: date
    date_reference: date


class PersonneFlux(msgspec.Struct, kw_only=True):
    line: int
    nir: str | None = None
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: list[str] = []
    date_naissance: date | None = None
    commune_naissance: str | None = None
    sexe: str | None = None
    soumis_droits_devoirs: bool | None = None
    """TOPPERSDRODEVORSA; absent in some MSA files."""
    role_rsa: str | None = None
    charge_rsa: bool = False
    identifiant_pole_emploi: str | None = None


class FoyerFlux(msgspec.Struct, kw_only=True):
    line: int
    rank: int
    organisme: str
    matricule: str
    date_demande: date | None = None
    etat: str | None = None
    motif_suspension: str | None = None
    date_suspension: date | None = None
    motif_cloture: str | None = None
    date_cloture: date | None = None
    code_commune: str | None = None
    code_postal: str | None = None
    commune: str | None = None
    adresse: list[str] = []
    personnes: list[PersonneFlux] = []
    defaut: str | None = None
    """Why the schema refuses this household (then it is reported, not imported)."""


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _line(el: etree._Element) -> int:
    found: Any = el.sourceline
    return int(found or 0)


def _release(el: etree._Element) -> None:
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


_ADRESSE = ("COMPLIDEADR", "COMPLADR", "NUMVOIE", "LIBTYPEVOIE", "NOMVOIE", "LIEUDIST")
_FOYER = (
    "FONORG",
    "MATRICULE",
    "DTDEMRSA",
    "ETATDOSRSA",
    "MOTISUSVERSRSA",
    "DDSUSVERSRSA",
    "MOTISUSDRORSA",
    "DDSUSDRORSA",
    "MOTICLORSA",
    "DTCLORSA",
    "NUMCOM",
    "CODEPOS",
    "NOMCOM",
    *_ADRESSE,
)
_PERSONNE = (
    "NOM",
    "NOMNAI",
    "PRENOM",
    "PRENOM2",
    "PRENOM3",
    "NOMCOMNAI",
    "DTNAI",
    "NIR",
    "SEXE",
    "NATPREST",
    "ROLEPERS",
    "TOPCHAPERS",
    "IDASSEDIC",
    "TOPPERSDRODEVORSA",
)
"""The only elements read (the schema keeps household and person tags apart): lxml filters
them in C, so the other elements of a household cost no Python object."""


def _texts(el: etree._Element, tags: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for e in el.iter(*tags):
        text = e.text
        if text is not None:
            text = text.strip()
            if text:
                yield str(e.tag), text


_FOYER_TAGS = frozenset(_FOYER)
_PERSONNE_TAGS = frozenset(_PERSONNE)
_ALL = ("Personne", "DonneesAdministratives", *_FOYER, *_PERSONNE)


def _foyer(el: etree._Element, rank: int) -> FoyerFlux:
    """One walk over the household's elements of interest, in document order: a validated
    household holds its persons one after another, right before DonneesAdministratives, so a
    person's elements are those between its Personne and the next Personne or
    DonneesAdministratives."""
    h: dict[str, str] = {}
    people: list[tuple[etree._Element, list[tuple[str, str]]]] = []
    current: list[tuple[str, str]] | None = None
    for e in el.iter(*_ALL):
        tag = str(e.tag)
        if tag == "Personne":
            current = []
            people.append((e, current))
            continue
        if tag == "DonneesAdministratives":
            current = None
            continue
        text = e.text
        if text is None:
            continue
        text = text.strip()
        if not text:
            continue
        if tag in _FOYER_TAGS:
            h.setdefault(tag, text)
        elif current is not None:
            current.append((tag, text))
    return FoyerFlux(
        line=_line(el),
        rank=rank,
        organisme=h.get("FONORG", "").upper(),
        matricule=h.get("MATRICULE", ""),
        date_demande=_d(h.get("DTDEMRSA")),
        etat=h.get("ETATDOSRSA"),
        motif_suspension=h.get("MOTISUSVERSRSA") or h.get("MOTISUSDRORSA"),
        date_suspension=_d(h.get("DDSUSVERSRSA") or h.get("DDSUSDRORSA")),
        motif_cloture=h.get("MOTICLORSA"),
        date_cloture=_d(h.get("DTCLORSA")),
        code_commune=h.get("NUMCOM"),
        code_postal=h.get("CODEPOS"),
        commune=h.get("NOMCOM"),
        adresse=[h[k] for k in _ADRESSE if k in h],
        personnes=[_personne(p, texts) for p, texts in people],
    )


def _personne(el: etree._Element, texts: list[tuple[str, str]]) -> PersonneFlux:
    p: dict[str, str] = {}
    prenoms: list[str] = []
    prestation = ""
    role, charge = None, False
    for tag, text in texts:
        if tag == "NATPREST":
            prestation = text
        elif prestation == "RSA" and tag == "ROLEPERS":
            role = text
        elif prestation == "RSA" and tag == "TOPCHAPERS":
            charge = text in ("1", "true")
        elif tag in ("PRENOM", "PRENOM2", "PRENOM3"):
            prenoms.append(text)
        else:
            p.setdefault(tag, text)
    top = p.get("TOPPERSDRODEVORSA")
    return PersonneFlux(
        line=_line(el),
        nir=p.get("NIR"),
        nom=p.get("NOM"),
        nom_naissance=p.get("NOMNAI"),
        prenoms=prenoms,
        date_naissance=_d(p.get("DTNAI")),
        commune_naissance=p.get("NOMCOMNAI"),
        sexe=p.get("SEXE"),
        soumis_droits_devoirs=None if top is None else top in ("1", "true"),
        role_rsa=role,
        charge_rsa=charge,
        identifiant_pole_emploi=p.get("IDASSEDIC"),
    )


_SIZE = struct.Struct("<I")


def _fault(el: etree._Element) -> str | None:
    """Why an element breaks the schema (its first error), or None when it conforms."""
    validator = schema()
    try:
        if validator.validate(el):
            return None
    except etree.XMLSchemaValidateError:  # e.g. an entity reference left unresolved
        return "contenu non validable (référence d'entité non résolue)"
    errors: Any = validator.error_log  # iterable at run time; the stubs omit it
    return str(next(iter(errors)).message)


def scan(
    path: Path,
    spill: IO[bytes],
    notify: Callable[[EnTete, int], None] | None = None,
    every: int = 1000,
) -> tuple[EnTete, int]:
    """Validate the file and spill its households; FluxInvalide names the first fault.

    `notify`, when given, is told every `every` households (flushed) the spill's length so far,
    so that another process can read the spill while it grows.

    The envelope (root, IdentificationFlux) is validated for the whole file, each household on
    its own: a household the schema refuses is spilled with its fault, to be reported while the
    rest of the file imports. A file none of whose households conforms is refused whole.
    """
    encode = msgspec.msgpack.Encoder().encode
    header: EnTete | None = None
    rank = valid = 0
    first_fault: tuple[int, str] | None = None
    try:
        for _, el in etree.iterparse(
            str(path),
            events=("end",),
            tag=("IdentificationFlux", "InfosFoyerRSA"),
            resolve_entities=False,
            no_network=True,
        ):
            root = el.getroottree().getroot()
            if root.tag != "Racine" or el.getparent() is not root:
                raise FluxInvalide(_line(el), f"élément {el.tag} hors de l'élément racine Racine")
            if el.tag == "IdentificationFlux":
                fault = _fault(el)
                if fault is not None:
                    raise FluxInvalide(_line(el), fault)
                h = dict(_texts(el, ("TYPEFLUX", "DTCREAFLUX", "DTREF")))
                created = date.fromisoformat(h["DTCREAFLUX"])
                header = EnTete(
                    type_flux=h.get("TYPEFLUX", ""),
                    date_creation=created,
                    date_reference=_d(h.get("DTREF")) or created,
                )
                continue
            if header is None:
                raise FluxInvalide(_line(el), "bloc IdentificationFlux manquant avant les foyers")
            rank += 1
            fault = _fault(el)
            if fault is None:
                valid += 1
                foyer = _foyer(el, rank)
            else:
                first_fault = first_fault or (_line(el), fault)
                foyer = FoyerFlux(line=_line(el), rank=rank, organisme="", matricule="")
                foyer.defaut = f"foyer non conforme au schéma: {fault}"
            record = encode(foyer)
            spill.write(_SIZE.pack(len(record)))
            spill.write(record)
            _release(el)
            if notify is not None and rank % every == 0:
                spill.flush()
                notify(header, spill.tell())
    except etree.XMLSyntaxError as e:
        raise FluxInvalide(e.lineno or _fault_line(path), e.msg) from None
    except ValueError as e:  # a date the schema accepts but the calendar does not
        raise FluxInvalide(_fault_line(path), str(e)) from None
    if header is None:
        raise FluxInvalide(1, "bloc IdentificationFlux manquant")
    if first_fault is not None and valid == 0:
        raise FluxInvalide(*first_fault)
    spill.flush()
    return header, rank


def _fault_line(path: Path) -> int:
    """The line where parsing stops (a second pass, only for a refused file)."""
    line = 1
    try:
        for event, el in etree.iterparse(
            str(path),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
        ):
            if event == "start":
                line = _line(el) or line
            elif el.tag == "InfosFoyerRSA":
                _release(el)
    except etree.XMLSyntaxError as e:
        return e.lineno or line
    return line


def households(spill: IO[bytes], start: int = 0, end: int | None = None) -> Iterator[FoyerFlux]:
    """The spilled households, in file order (those between two offsets)."""
    decode = msgspec.msgpack.Decoder(FoyerFlux).decode
    spill.seek(start)
    while (end is None or spill.tell() < end) and (head := spill.read(_SIZE.size)):
        (size,) = _SIZE.unpack(head)
        yield decode(spill.read(size))
