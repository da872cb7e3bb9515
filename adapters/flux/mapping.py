"""From a household of the flux and a person's case state to the commands that bring the case
in line with what the flux says. Pure: no I/O; the importer runs each command through `decide`.

Each command carries the fact it records (event type, effective date): a fact the case already
holds is skipped, so a file imported twice, or a daily flux overlapping a monthly one, adds
nothing. Facts read from the current state only (resumption, change of the rights-and-duties
flag) are taken from a flux no older than the case's last event, so an old file re-imported
after a newer one cannot undo it.
"""

from dataclasses import dataclass
from datetime import date

from adapters.flux.reader import EnTete, FoyerFlux, PersonneFlux
from domain.commands import (
    CloreDroit,
    Commande,
    EnregistrerEntree,
    ModifierDroitsDevoirs,
    ReprendreDroit,
    RouvrirDroit,
    SuspendreDroit,
)
from domain.dossier import Dossier, Statut
from domain.events import Profil
from domain.vocabulary import MotifCloture, OrganismePayeur, Sexe

OUVERT = frozenset({"2", "3", "4"})
SUSPENDU = frozenset({"3", "4"})
CLOS = frozenset({"5", "6"})
CONNUS = frozenset({"0", "1"}) | OUVERT | CLOS

MOTIFS_CLOTURE: dict[str, MotifCloture] = {
    "PCG": MotifCloture.RADIATION,
    "RAD": MotifCloture.RADIATION,
    "DEC": MotifCloture.DECES,
    "MUT": MotifCloture.DEMENAGEMENT,
    "DEM": MotifCloture.DEMENAGEMENT,
    "RES": MotifCloture.RESSOURCES_SUPERIEURES,
    "REV": MotifCloture.RESSOURCES_SUPERIEURES,
    "DRD": MotifCloture.DECLARATION_NON_FOURNIE,
    "DTR": MotifCloture.DECLARATION_NON_FOURNIE,
}
"""MOTICLORSA codes to the closure reasons of the path; other codes are `autre`."""

SEXES = {"1": Sexe.M, "2": Sexe.F}


class FoyerIncoherent(Exception):
    """The household's facts contradict each other: it is reported, not imported."""


@dataclass(frozen=True, slots=True)
class Fait:
    command: Commande
    event: str
    effective_on: date


def soumis(p: PersonneFlux) -> bool:
    """TOPPERSDRODEVORSA; where the flux omits it (MSA files), demandeur or conjoint counted
    in the RSA household."""
    if p.soumis_droits_devoirs is not None:
        return p.soumis_droits_devoirs
    return p.role_rsa in ("DEM", "CJT") and p.charge_rsa


def check(foyer: FoyerFlux) -> None:
    """Household-level consistency, before any person is looked at."""
    if not foyer.personnes:
        raise FoyerIncoherent("foyer sans personne")
    if foyer.etat not in CONNUS:
        raise FoyerIncoherent(f"état du droit inconnu: {foyer.etat!r}")
    if foyer.organisme not in ("CAF", "MSA"):
        raise FoyerIncoherent(f"organisme inconnu: {foyer.organisme!r}")
    if not foyer.matricule:
        raise FoyerIncoherent("numéro de dossier (MATRICULE) manquant")
    nirs = [p.nir for p in foyer.personnes if p.nir]
    if len(nirs) != len(set(nirs)):
        raise FoyerIncoherent("la même personne (NIR) figure deux fois dans le foyer")
    for p in foyer.personnes:
        if soumis(p) and not p.nir:
            raise FoyerIncoherent(f"personne ligne {p.line}: NIR manquant")
    if foyer.etat in OUVERT and foyer.date_demande is None:
        raise FoyerIncoherent("droit ouvert sans date de demande (DTDEMRSA)")
    if foyer.etat in CLOS and foyer.date_cloture is None:
        raise FoyerIncoherent("droit clos sans date de clôture (DTCLORSA)")


def profil(foyer: FoyerFlux, p: PersonneFlux) -> Profil:
    return Profil(
        sexe=SEXES.get(p.sexe or ""),
        annee_naissance=p.date_naissance.year if p.date_naissance else None,
        code_commune=foyer.code_commune,
    )


def faits(
    foyer: FoyerFlux,
    p: PersonneFlux,
    header: EnTete,
    state: Dossier,
    last_effective: date | None,
    numero_dossier: str,
    received: date,
) -> list[Fait]:
    """What this flux says happened to this person's case, in order."""
    etat = foyer.etat or ""
    bound = soumis(p)
    out: list[Fait] = []
    if not state.existe:
        if etat not in OUVERT or not bound:
            return []
        assert foyer.date_demande is not None
        entree = EnregistrerEntree(
            effective_on=foyer.date_demande,
            numero_dossier=numero_dossier,
            organisme_payeur=OrganismePayeur(foyer.organisme.lower()),
            date_flux=header.date_creation,
            date_reception_flux=received,
            soumis_droits_devoirs=True,
            profil=profil(foyer, p),
        )
        out.append(Fait(entree, "EntreeEnregistree", entree.effective_on))
        last_effective = None  # a new case: the flux is its first word
    elif etat in OUVERT and not state.episode_ouvert and bound:
        assert foyer.date_demande is not None
        if state.date_entree is None or foyer.date_demande > state.date_entree:
            rouvrir = RouvrirDroit(
                effective_on=foyer.date_demande,
                date_flux=header.date_creation,
                date_reception_flux=received,
                soumis_droits_devoirs=True,
                profil=profil(foyer, p),
            )
            out.append(Fait(rouvrir, "DroitRouvert", rouvrir.effective_on))
            last_effective = None
    current = last_effective is None or header.date_reference >= last_effective
    reopened = bool(out)
    open_now = reopened or (state.existe and state.statut is not Statut.CLOS)
    if not open_now:
        return out
    on = header.date_reference
    if etat in OUVERT:
        flag = state.soumis_droits_devoirs if not reopened else True
        if current and flag != bound:
            cmd = ModifierDroitsDevoirs(effective_on=on, soumis_droits_devoirs=bound)
            out.append(Fait(cmd, "DroitsDevoirsModifies", on))
        suspended = state.droit_suspendu and not reopened
        if etat in SUSPENDU and not suspended:
            when = foyer.date_suspension or on
            out.append(
                Fait(
                    SuspendreDroit(effective_on=when, motif=foyer.motif_suspension),
                    "DroitSuspendu",
                    when,
                )
            )
        elif etat == "2" and suspended and current:
            out.append(Fait(ReprendreDroit(effective_on=on), "DroitRepris", on))
    elif etat in CLOS:
        assert foyer.date_cloture is not None
        motif = MOTIFS_CLOTURE.get(foyer.motif_cloture or "", MotifCloture.AUTRE)
        clore = CloreDroit(effective_on=foyer.date_cloture, motif=motif)
        out.append(Fait(clore, "DroitClos", clore.effective_on))
    return out
