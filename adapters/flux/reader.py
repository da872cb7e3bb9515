"""Streaming reader of a vrsb0801 flux (windows-1252): validation, then one household at a time.

Validation is a first streaming pass against the published schema, so a file that does not
validate is refused before anything is written; the second pass yields households, clearing each
element once read so memory stays flat whatever the file size.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

SCHEMA = Path(__file__).with_name("vrsb0801.xsd")


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


class FluxInvalide(Exception):
    """The file is not a well-formed vrsb0801 flux: nothing of it is imported."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"ligne {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EnTete:
    type_flux: str
    """I: daily (new applications), M: monthly (whole stock)."""
    date_creation: date
    date_reference: date


@dataclass(slots=True)
class PersonneFlux:
    line: int
    nir: str | None = None
    nom: str | None = None
    nom_naissance: str | None = None
    prenoms: list[str] = field(default_factory=list)
    date_naissance: date | None = None
    commune_naissance: str | None = None
    sexe: str | None = None
    soumis_droits_devoirs: bool | None = None
    """TOPPERSDRODEVORSA; absent in some MSA files."""
    role_rsa: str | None = None
    charge_rsa: bool = False
    identifiant_pole_emploi: str | None = None


@dataclass(slots=True)
class FoyerFlux:
    line: int
    rank: int
    organisme: str
    matricule: str
    date_demande: date | None
    etat: str | None = None
    motif_suspension: str | None = None
    date_suspension: date | None = None
    motif_cloture: str | None = None
    date_cloture: date | None = None
    code_commune: str | None = None
    code_postal: str | None = None
    commune: str | None = None
    adresse: list[str] = field(default_factory=list)
    personnes: list[PersonneFlux] = field(default_factory=list)


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value.strip()[:10]) if value and value.strip() else None


def _t(el: etree._Element, path: str) -> str | None:
    found = el.findtext(path)
    if found is None:
        return None
    found = found.strip()
    return found or None


def validate(path: Path) -> int:
    """Check the whole file against the schema; return its number of households."""
    households = 0
    line = 1
    try:
        for event, el in etree.iterparse(
            str(path), events=("start", "end"), schema=schema(), huge_tree=True
        ):
            if event == "start":
                line = _line(el) or line
                continue
            if el.tag == "InfosFoyerRSA":
                households += 1
                _release(el)
    except etree.XMLSyntaxError as e:
        raise FluxInvalide(e.lineno or line, e.msg) from None
    return households


def _line(el: etree._Element) -> int:
    found: Any = el.sourceline
    return int(found or 0)


def _release(el: etree._Element) -> None:
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def read(path: Path) -> tuple[EnTete, Iterator[FoyerFlux]]:
    """The header, then the households one by one (call after `validate`)."""
    events = etree.iterparse(str(path), events=("end",), huge_tree=True)
    header: EnTete | None = None
    for _, el in events:
        if el.tag == "IdentificationFlux":
            created = _d(_t(el, "DTCREAFLUX"))
            assert created is not None
            header = EnTete(
                type_flux=_t(el, "TYPEFLUX") or "",
                date_creation=created,
                date_reference=_d(_t(el, "DTREF")) or created,
            )
            break
    if header is None:
        raise FluxInvalide(1, "IdentificationFlux manquant")

    def households() -> Iterator[FoyerFlux]:
        rank = 0
        for _, el in events:
            if el.tag != "InfosFoyerRSA":
                continue
            rank += 1
            yield _foyer(el, rank)
            _release(el)

    return header, households()


def _foyer(el: etree._Element, rank: int) -> FoyerFlux:
    ident = "IdentificationRSA/"
    situation = "PrestationRSA/SituationDossierRSA/"
    adresse = "DonneesAdministratives/Adresse/AdresseDetailleeFrance/"
    foyer = FoyerFlux(
        line=_line(el),
        rank=rank,
        organisme=(_t(el, ident + "Organisme/FONORG") or "").upper(),
        matricule=_t(el, ident + "Organisme/MATRICULE") or "",
        date_demande=_d(_t(el, ident + "DemandeRSA/DTDEMRSA")),
        etat=_t(el, situation + "EtatDossierRSA/ETATDOSRSA"),
        code_commune=_t(el, adresse + "NUMCOM"),
        code_postal=_t(el, adresse + "CODEPOS"),
        commune=_t(el, adresse + "NOMCOM"),
    )
    for tag in ("SuspensionVersement", "SuspensionDroit"):
        block = el.find(situation + tag)
        if block is not None:
            suffix = "VERSRSA" if tag == "SuspensionVersement" else "DRORSA"
            foyer.motif_suspension = _t(block, "MOTISUS" + suffix)
            foyer.date_suspension = _d(_t(block, "DDSUS" + suffix))
            break
    for tag in ("FinDroit", "FinDroitMoisAnterieur"):
        block = el.find(situation + tag)
        if block is not None:
            foyer.motif_cloture = _t(block, "MOTICLORSA")
            foyer.date_cloture = _d(_t(block, "DTCLORSA"))
            break
    detail = el.find(adresse.rstrip("/"))
    if detail is not None:
        parts = ("COMPLIDEADR", "COMPLADR", "NUMVOIE", "LIBTYPEVOIE", "NOMVOIE", "LIEUDIST")
        foyer.adresse = [v for p in parts if (v := _t(detail, p))]
    for p in el.iterfind("Personne"):
        foyer.personnes.append(_personne(p))
    return foyer


def _personne(el: etree._Element) -> PersonneFlux:
    top = _t(el, "MontantCalculDroitRSAPersonne/TOPPERSDRODEVORSA")
    personne = PersonneFlux(
        line=_line(el),
        nir=_t(el, "Identification/NIR"),
        nom=_t(el, "Identification/NOM"),
        nom_naissance=_t(el, "Identification/NOMNAI"),
        prenoms=[
            v for tag in ("PRENOM", "PRENOM2", "PRENOM3") if (v := _t(el, f"Identification/{tag}"))
        ],
        date_naissance=_d(_t(el, "Identification/DTNAI")),
        commune_naissance=_t(el, "Identification/NOMCOMNAI"),
        sexe=_t(el, "Identification/SEXE"),
        soumis_droits_devoirs=None if top is None else top in ("1", "true"),
        identifiant_pole_emploi=_t(el, "DossierPoleEmploi/IDASSEDIC"),
    )
    for prestation in el.iterfind("Prestations"):
        if _t(prestation, "NATPREST") == "RSA":
            personne.role_rsa = _t(prestation, "ROLEPERS")
            personne.charge_rsa = _t(prestation, "TOPCHAPERS") in ("1", "true")
    return personne
