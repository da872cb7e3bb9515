"""A synthetic CAF flux in the vrsb0801 format (windows-1252), household by household.

Households follow the shape of the CAF samples (identification, one or two persons, address,
state of the right); the rights' states are drawn so that a monthly flux holds open, suspended
and closed rights. Deterministic for a seed; written as a stream, so any size fits in memory.
"""

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

NOMS = ("MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY")
PRENOMS = ("CAMILLE", "LEA", "MANON", "LUCAS", "HUGO", "LOUIS", "CHLOE", "JULES", "EMMA", "NOAH")
VOIES = ("RUE DE LA PAIX", "AVENUE JEAN JAURES", "RUE VICTOR HUGO", "PLACE DE LA MAIRIE")
COMMUNES = (("77288", "77000", "MELUN"), ("77284", "77100", "MEAUX"), ("77108", "77500", "CHELLES"))


@dataclass(frozen=True, slots=True)
class Personne:
    nir: str
    nom: str
    prenom: str
    naissance: date
    sexe: str
    soumis: bool
    pole_emploi: str | None


@dataclass(frozen=True, slots=True)
class Foyer:
    matricule: str
    demande: date
    etat: str
    personnes: tuple[Personne, ...]
    commune: tuple[str, str, str]
    voie: str


def foyers(count: int, seed: int, reference: date) -> Iterator[Foyer]:
    """`count` households; household i is the same for every call with the same seed."""
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        personnes = []
        for j in range(1 if rng.random() < 0.6 else 2):
            sexe = rng.choice("12")
            naissance = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
            nir = f"{sexe}{naissance:%y%m}77{rng.randrange(1000):03d}{i * 2 + j:03d}"[:13]
            personnes.append(
                Personne(
                    nir=nir,
                    nom=rng.choice(NOMS),
                    prenom=rng.choice(PRENOMS),
                    naissance=naissance,
                    sexe=sexe,
                    soumis=j == 0 or rng.random() < 0.5,
                    pole_emploi=f"{rng.randrange(10**7):07d}X" if rng.random() < 0.4 else None,
                )
            )
        draw = rng.random()
        etat = "2" if draw < 0.8 else "4" if draw < 0.9 else "5"
        yield Foyer(
            matricule=f"{i:07d}{seed % 100:02d}000000",
            demande=reference - timedelta(days=rng.randrange(30, 1500)),
            etat=etat,
            personnes=tuple(personnes),
            commune=rng.choice(COMMUNES),
            voie=rng.choice(VOIES),
        )


def _personne(p: Personne) -> str:
    pe = (
        f"<DossierPoleEmploi><IDASSEDIC>{p.pole_emploi}</IDASSEDIC></DossierPoleEmploi>"
        if p.pole_emploi
        else ""
    )
    return (
        "<Personne><Identification>"
        f"<QUAL>{'MR' if p.sexe == '1' else 'MME'}</QUAL><NOM>{escape(p.nom)}</NOM>"
        f"<NOMNAI>{escape(p.nom)}</NOMNAI><PRENOM>{escape(p.prenom)}</PRENOM>"
        f"<NOMCOMNAI>MELUN</NOMCOMNAI><DTNAI>{p.naissance.isoformat()}</DTNAI>"
        f"<TYPEDTNAI>N</TYPEDTNAI><NIR>{p.nir}</NIR><TOPVALIEC>1</TOPVALIEC>"
        f"<SEXE>{p.sexe}</SEXE></Identification>"
        "<DossierCAF><TOPRESPDOS>1</TOPRESPDOS><DDRATDOS>2015-01-01</DDRATDOS></DossierCAF>"
        "<Prestations><NATPREST>PFA</NATPREST><ROLEPERS>DEM</ROLEPERS>"
        "<TOPCHAPERS>1</TOPCHAPERS></Prestations>"
        "<Prestations><NATPREST>RSA</NATPREST><ROLEPERS>DEM</ROLEPERS>"
        f"<TOPCHAPERS>1</TOPCHAPERS></Prestations>{pe}"
        "<MontantCalculDroitRSAPersonne>"
        f"<TOPPERSDRODEVORSA>{int(p.soumis)}</TOPPERSDRODEVORSA>"
        "</MontantCalculDroitRSAPersonne></Personne>"
    )


def _situation(f: Foyer, reference: date) -> str:
    etat = f"<EtatDossierRSA><ETATDOSRSA>{f.etat}</ETATDOSRSA></EtatDossierRSA>"
    if f.etat == "4":
        debut = max(f.demande, reference - timedelta(days=60))
        etat += (
            "<SuspensionVersement><MOTISUSVERSRSA>06</MOTISUSVERSRSA>"
            f"<DDSUSVERSRSA>{debut.isoformat()}</DDSUSVERSRSA></SuspensionVersement>"
        )
    if f.etat == "5":
        fin = max(f.demande, reference - timedelta(days=20))
        etat += (
            f"<FinDroit><MOTICLORSA>PCG</MOTICLORSA><DTCLORSA>{fin.isoformat()}</DTCLORSA>"
            "</FinDroit>"
        )
    return f"<SituationDossierRSA>{etat}</SituationDossierRSA>"


def household_xml(f: Foyer, reference: date) -> str:
    numcom, codepos, nomcom = f.commune
    return (
        "<InfosFoyerRSA><IdentificationRSA><Organisme><FONORG>CAF</FONORG><NUMORG>771</NUMORG>"
        f"<MATRICULE>{f.matricule}</MATRICULE></Organisme><Partenaire><TYPEPARTE>CG</TYPEPARTE>"
        "<IDEPARTE>077</IDEPARTE></Partenaire><DemandeRSA>"
        f"<DTDEMRSA>{f.demande.isoformat()}</DTDEMRSA><NUMDEMRSA>{f.matricule[:11]}</NUMDEMRSA>"
        "</DemandeRSA></IdentificationRSA>"
        + "".join(_personne(p) for p in f.personnes)
        + "<DonneesAdministratives><SituationFamille><SITFAM>CEL</SITFAM>"
        "<DDSITFAM>2015-01-01</DDSITFAM><REGAGRIFAM>SA</REGAGRIFAM></SituationFamille><Adresse>"
        "<TroncCommunAdresse><RGADR>01</RGADR><DTEMM>2015-01-01</DTEMM><PAYS>FRA</PAYS>"
        "<TYPEADR>D</TYPEADR><ETATADR>CO</ETATADR></TroncCommunAdresse><AdresseDetailleeFrance>"
        f"<COMPLIDEADR/><COMPLADR/><NUMVOIE>{len(f.voie)}</NUMVOIE><LIBTYPEVOIE>RUE</LIBTYPEVOIE>"
        f"<NOMVOIE>{f.voie}</NOMVOIE><LIEUDIST/><NUMCOM>{numcom}</NUMCOM>"
        f"<CODEPOS>{codepos}</CODEPOS><NOMCOM>{nomcom}</NOMCOM></AdresseDetailleeFrance>"
        "</Adresse></DonneesAdministratives><PrestationRSA>"
        + _situation(f, reference)
        + "<DetailDroitRSA><TroncCommunDroitRSA><TOPSANSDOMFIXE>0</TOPSANSDOMFIXE>"
        f"<ORIDEMRSA>DEM</ORIDEMRSA><DTORIDEMRSA>{f.demande.isoformat()}</DTORIDEMRSA>"
        "</TroncCommunDroitRSA></DetailDroitRSA></PrestationRSA></InfosFoyerRSA>\n"
    )


def write(
    path: Path,
    households: int,
    *,
    seed: int = 7,
    created: date = date(2024, 3, 5),
    reference: date = date(2024, 2, 29),
    type_flux: str = "M",
    only: range | None = None,
) -> int:
    """Write a flux of `households` households (or the subset `only` of them); return how
    many were written."""
    written = 0
    with path.open("w", encoding="cp1252", newline="\n") as out:
        out.write(
            '<?xml version="1.0" encoding="windows-1252"?>\n<Racine>\n<IdentificationFlux>'
            "<APPLIEME>CRI</APPLIEME><NUMVERSIONAPPLIEME>6200</NUMVERSIONAPPLIEME>"
            f"<TYPEFLUX>{type_flux}</TYPEFLUX><NATFLUX>D</NATFLUX>"
            f"<DTCREAFLUX>{created.isoformat()}</DTCREAFLUX><HEUCREAFLUX>01:00:00.0000"
            f"</HEUCREAFLUX><DTREF>{reference.isoformat()}</DTREF></IdentificationFlux>\n"
        )
        for i, foyer in enumerate(foyers(households, seed, reference)):
            if only is not None and i not in only:
                continue
            out.write(household_xml(foyer, reference))
            written += 1
        out.write(
            f"<TransmissionFlux><NBTOTDOSRSATRANSM>{written:08d}</NBTOTDOSRSATRANSM>"
            "<NBTOTDOSRSATRANSMANO>00000000</NBTOTDOSRSATRANSMANO></TransmissionFlux>\n</Racine>\n"
        )
    return written


def write_unknown(path: Path, megabytes: int, *, created: date = date(2024, 3, 5)) -> int:
    """A valid header followed by `megabytes` MB of elements the schema does not know, as a
    careless or hostile sender could send (what the reader must refuse early, in bounded
    memory); return the file's size."""
    with path.open("w", encoding="cp1252", newline="\n") as out:
        out.write(
            '<?xml version="1.0" encoding="windows-1252"?>\n<Racine>\n<IdentificationFlux>'
            "<APPLIEME>CRI</APPLIEME><NUMVERSIONAPPLIEME>6200</NUMVERSIONAPPLIEME>"
            f"<TYPEFLUX>M</TYPEFLUX><NATFLUX>D</NATFLUX><DTCREAFLUX>{created.isoformat()}"
            "</DTCREAFLUX><HEUCREAFLUX>01:00:00.0000</HEUCREAFLUX>"
            f"<DTREF>{created.isoformat()}</DTREF></IdentificationFlux>\n"
        )
        line = "<Inconnu><A>x</A><B>y</B><C>z</C></Inconnu>\n" * 1000
        for _ in range(megabytes * 1_000_000 // len(line)):
            out.write(line)
        out.write(
            "<TransmissionFlux><NBTOTDOSRSATRANSM>00000000</NBTOTDOSRSATRANSM>"
            "<NBTOTDOSRSATRANSMANO>00000000</NBTOTDOSRSATRANSMANO></TransmissionFlux>\n"
            "</Racine>\n"
        )
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--type", default="M", choices=["M", "I"])
    args = parser.parse_args()
    write(args.path, args.households, seed=args.seed, type_flux=args.type)


if __name__ == "__main__":
    main()
