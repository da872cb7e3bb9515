"""`decide`: the path's rules. A command and the case state give the events to record, or a
domain error naming the rule and the field at fault. Pure: the caller passes today's date and
the recording metadata.
"""

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import msgspec

from domain.commands import (
    CloreDroit,
    Commande,
    DeciderOrientation,
    DeciderReorientation,
    DeciderSanction,
    DesignerReferent,
    EnregistrerEntree,
    EnregistrerIssueRdv,
    EnregistrerSortie,
    LeverSanction,
    ModifierDroitsDevoirs,
    PlanifierRdv,
    RenouvelerCer,
    ReprendreDroit,
    RouvrirDroit,
    SignerCer,
    SuspendreDroit,
    TenirEntretienAsc,
)
from domain.dossier import Dossier, Orientation, Statut
from domain.errors import DomainError, DossierInconnu
from domain.events import (
    CerSigne,
    DroitClos,
    DroitRepris,
    DroitRouvert,
    DroitsDevoirsModifies,
    DroitSuspendu,
    EntreeEnregistree,
    EntretienAscTenu,
    Evenement,
    IssueRdvEnregistree,
    Meta,
    OrientationDecidee,
    RdvPlanifie,
    ReferentDesigne,
    ReorientationDecidee,
    SanctionDecidee,
    SanctionLevee,
    SortieEnregistree,
)
from domain.vocabulary import RDV_AVANT_ORIENTATION, IssueRdv, TypeOrientation


class Contexte(msgspec.Struct, frozen=True, kw_only=True):
    """What the edge knows and the rules need: today's date and who is recording."""

    today: date
    meta: Meta


C = TypeVar("C", bound=Commande)
Handler = Callable[[Dossier, Any, Contexte], list[Evenement]]
_HANDLERS: dict[type[Commande], Handler] = {}


def _handles(
    kind: type[C],
) -> Callable[[Callable[[Dossier, C, Contexte], list[Evenement]]], Handler]:
    def register(fn: Callable[[Dossier, C, Contexte], list[Evenement]]) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


def decide(state: Dossier, command: Commande, ctx: Contexte) -> list[Evenement]:
    """Check `command` against the case and the calendar; return the events it records."""
    _not_in_future(command.effective_on, ctx.today, "effective_on")
    if not state.existe and not isinstance(command, EnregistrerEntree):
        raise DossierInconnu
    return _HANDLERS[type(command)](state, command, ctx)


# --- shared checks -------------------------------------------------------------------------


def _not_in_future(d: date, today: date, field: str) -> None:
    if d > today:
        raise DomainError("date_future", f"La date {d} est dans le futur.", field)


def _not_before(d: date, floor: date | None, field: str, what: str) -> None:
    if floor is not None and d < floor:
        raise DomainError("date_anterieure", f"La date {d} précède {what} ({floor}).", field)


def _open_episode(state: Dossier, command: Commande) -> None:
    if not state.episode_ouvert:
        raise DomainError(
            "episode_clos",
            f"L'épisode {state.episode} est {state.statut.value}: seule une réouverture du "
            "droit est possible.",
        )
    _not_before(command.effective_on, state.date_entree, "effective_on", "l'entrée")


def _current_orientation(state: Dossier, command: Commande) -> Orientation:
    _open_episode(state, command)
    if state.orientation is None:
        raise DomainError(
            "orientation_requise", "Cette étape demande une orientation en cours.", "effective_on"
        )
    _not_before(command.effective_on, state.orientation.depuis, "effective_on", "l'orientation")
    return state.orientation


def _flux_dates(command: EnregistrerEntree | RouvrirDroit, ctx: Contexte) -> None:
    _not_in_future(command.date_flux, ctx.today, "date_flux")
    _not_in_future(command.date_reception_flux, ctx.today, "date_reception_flux")
    _not_before(command.date_reception_flux, command.date_flux, "date_reception_flux", "le flux")


# --- rights, from the CAF/MSA flux ----------------------------------------------------------


@_handles(EnregistrerEntree)
def _entree(state: Dossier, c: EnregistrerEntree, ctx: Contexte) -> list[Evenement]:
    if state.existe:
        raise DomainError(
            "dossier_existant", "Ce dossier a déjà une entrée: enregistrer une réouverture."
        )
    _flux_dates(c, ctx)
    return [
        EntreeEnregistree(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero_dossier=c.numero_dossier,
            organisme_payeur=c.organisme_payeur,
            date_flux=c.date_flux,
            date_reception_flux=c.date_reception_flux,
            soumis_droits_devoirs=c.soumis_droits_devoirs,
            profil=c.profil,
        )
    ]


@_handles(RouvrirDroit)
def _reouverture(state: Dossier, c: RouvrirDroit, ctx: Contexte) -> list[Evenement]:
    if state.episode_ouvert:
        raise DomainError(
            "episode_ouvert", "L'épisode en cours n'est ni clos ni sorti.", "effective_on"
        )
    _not_before(c.effective_on, state.date_entree, "effective_on", "l'entrée précédente")
    _flux_dates(c, ctx)
    return [
        DroitRouvert(
            effective_on=c.effective_on,
            meta=ctx.meta,
            date_flux=c.date_flux,
            date_reception_flux=c.date_reception_flux,
            soumis_droits_devoirs=c.soumis_droits_devoirs,
            profil=c.profil,
        )
    ]


def _right_not_closed(state: Dossier, c: Commande) -> None:
    if state.statut is Statut.CLOS:
        raise DomainError("episode_clos", "Le droit est clos.")
    _not_before(c.effective_on, state.date_entree, "effective_on", "l'entrée")


@_handles(SuspendreDroit)
def _suspension(state: Dossier, c: SuspendreDroit, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    if state.droit_suspendu:
        raise DomainError("droit_deja_suspendu", "Le droit est déjà suspendu.")
    return [DroitSuspendu(effective_on=c.effective_on, meta=ctx.meta, motif=c.motif)]


@_handles(ReprendreDroit)
def _reprise(state: Dossier, c: ReprendreDroit, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    if not state.droit_suspendu:
        raise DomainError("droit_non_suspendu", "Le droit n'est pas suspendu.")
    return [DroitRepris(effective_on=c.effective_on, meta=ctx.meta)]


@_handles(CloreDroit)
def _cloture(state: Dossier, c: CloreDroit, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    return [DroitClos(effective_on=c.effective_on, meta=ctx.meta, motif=c.motif)]


@_handles(ModifierDroitsDevoirs)
def _droits_devoirs(state: Dossier, c: ModifierDroitsDevoirs, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    if state.soumis_droits_devoirs == c.soumis_droits_devoirs:
        raise DomainError(
            "droits_devoirs_inchanges",
            "La soumission aux droits et devoirs est déjà celle-ci.",
            "soumis_droits_devoirs",
        )
    return [
        DroitsDevoirsModifies(
            effective_on=c.effective_on,
            meta=ctx.meta,
            soumis_droits_devoirs=c.soumis_droits_devoirs,
        )
    ]


# --- orientation and referent ---------------------------------------------------------------


@_handles(DeciderOrientation)
def _orientation(state: Dossier, c: DeciderOrientation, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if state.orientation is not None:
        raise DomainError(
            "deja_oriente",
            "Une orientation est en cours: enregistrer une réorientation.",
            "type_orientation",
        )
    return [
        OrientationDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            type_orientation=c.type_orientation,
            organisme=c.organisme,
            structure_id=c.structure_id,
            mode=c.mode,
        )
    ]


@_handles(DeciderReorientation)
def _reorientation(state: Dossier, c: DeciderReorientation, ctx: Contexte) -> list[Evenement]:
    current = _current_orientation(state, c)
    if (current.type_orientation, current.structure_id) == (c.type_orientation, c.structure_id):
        raise DomainError(
            "reorientation_identique",
            "La réorientation ne change ni le type ni la structure.",
            "structure_id",
        )
    if c.date_avis_ep is not None:
        _not_in_future(c.date_avis_ep, ctx.today, "date_avis_ep")
    return [
        ReorientationDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            type_orientation=c.type_orientation,
            organisme=c.organisme,
            structure_id=c.structure_id,
            motif=c.motif,
            date_avis_ep=c.date_avis_ep,
        )
    ]


@_handles(DesignerReferent)
def _referent(state: Dossier, c: DesignerReferent, ctx: Contexte) -> list[Evenement]:
    _current_orientation(state, c)
    return [ReferentDesigne(effective_on=c.effective_on, meta=ctx.meta, referent_id=c.referent_id)]


# --- RDV ------------------------------------------------------------------------------------


@_handles(PlanifierRdv)
def _rdv(state: Dossier, c: PlanifierRdv, ctx: Contexte) -> list[Evenement]:
    if c.type_rdv in RDV_AVANT_ORIENTATION:
        _open_episode(state, c)
    else:
        _current_orientation(state, c)
    _not_before(c.date_rdv, c.effective_on, "date_rdv", "sa planification")
    return [
        RdvPlanifie(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=len(state.rdvs) + 1,
            type_rdv=c.type_rdv,
            mode=c.mode,
            date_rdv=c.date_rdv,
        )
    ]


@_handles(EnregistrerIssueRdv)
def _issue_rdv(state: Dossier, c: EnregistrerIssueRdv, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    rdv = state.rdvs.get(c.numero)
    if rdv is None or rdv.episode != state.episode:
        raise DomainError("rdv_inconnu", f"Aucun RDV n°{c.numero} dans cet épisode.", "numero")
    if rdv.issue is not None:
        raise DomainError(
            "issue_deja_enregistree", f"Le RDV n°{c.numero} a déjà une issue.", "numero"
        )
    if c.issue in (IssueRdv.SEEN, IssueRdv.NOSHOW):
        _not_before(c.effective_on, rdv.date_rdv, "effective_on", "la date du RDV")
    else:
        _not_before(c.effective_on, rdv.planifie_le, "effective_on", "la planification")
    return [
        IssueRdvEnregistree(
            effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, issue=c.issue
        )
    ]


# --- contracts and accompaniment ------------------------------------------------------------


def _cer(
    state: Dossier, c: SignerCer | RenouvelerCer, ctx: Contexte, renouvellement: bool
) -> list[Evenement]:
    orientation = _current_orientation(state, c)
    _not_before(c.date_debut, orientation.depuis, "date_debut", "l'orientation")
    return [
        CerSigne(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_cer + 1,
            date_debut=c.date_debut,
            duree_mois=c.duree_mois,
            renouvellement=renouvellement,
        )
    ]


@_handles(SignerCer)
def _signer_cer(state: Dossier, c: SignerCer, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if state.cer is not None:
        raise DomainError(
            "cer_existant", "Un CER existe dans cet épisode: enregistrer un renouvellement."
        )
    return _cer(state, c, ctx, renouvellement=False)


@_handles(RenouvelerCer)
def _renouveler_cer(state: Dossier, c: RenouvelerCer, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if state.cer is None:
        raise DomainError("cer_requis", "Aucun CER à renouveler dans cet épisode.")
    _not_before(c.date_debut, state.cer.date_debut, "date_debut", "le CER précédent")
    return _cer(state, c, ctx, renouvellement=True)


@_handles(TenirEntretienAsc)
def _asc(state: Dossier, c: TenirEntretienAsc, ctx: Contexte) -> list[Evenement]:
    orientation = _current_orientation(state, c)
    if orientation.type_orientation is not TypeOrientation.PROFESSIONNELLE:
        raise DomainError(
            "asc_hors_orientation_professionnelle",
            "L'appui social complémentaire concerne les personnes en orientation professionnelle.",
        )
    return [
        EntretienAscTenu(effective_on=c.effective_on, meta=ctx.meta, structure_id=c.structure_id)
    ]


@_handles(EnregistrerSortie)
def _sortie(state: Dossier, c: EnregistrerSortie, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    return [
        SortieEnregistree(effective_on=c.effective_on, meta=ctx.meta, type_sortie=c.type_sortie)
    ]


@_handles(DeciderSanction)
def _sanction(state: Dossier, c: DeciderSanction, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    return [
        SanctionDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_sanctions + 1,
            type_sanction=c.type_sanction,
            motif=c.motif,
        )
    ]


@_handles(LeverSanction)
def _lever_sanction(state: Dossier, c: LeverSanction, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if c.numero not in state.sanctions_en_cours:
        raise DomainError(
            "sanction_non_en_vigueur", f"La sanction n°{c.numero} n'est pas en vigueur.", "numero"
        )
    return [
        SanctionLevee(effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, motif=c.motif)
    ]
