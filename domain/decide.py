"""`decide`: the path's rules. A command and the case state give the events to record, or a
domain error naming the rule and the field at fault. Pure: the caller passes today's date and
the recording metadata.
"""

from collections.abc import Sequence
from datetime import date
from typing import Literal, TypeGuard, assert_never, cast

import msgspec

from domain import commands as cmd
from domain import events as ev
from domain.bounds import verifier
from domain.commands import Commande, Etape
from domain.corrections import effective_history, is_correction
from domain.dossier import Dossier, Orientation, Rdv, Statut, evolve, fold_history
from domain.errors import DomainError, DossierInconnu
from domain.events import Evenement, Meta, Recorded
from domain.vocabulary import (
    RDV_AVANT_ORIENTATION,
    IssueRdv,
    ObjetAccompagnement,
    TypeOrientation,
)


class Contexte(msgspec.Struct, frozen=True, kw_only=True):
    """What the edge knows and the rules need: today's date and who is recording."""

    today: date
    meta: Meta


def decide(state: Dossier, command: Commande, ctx: Contexte) -> list[Evenement]:
    """Check `command` against the bounds, the case and the calendar; return the events it
    records."""
    _not_in_future(command.effective_on, ctx.today, "effective_on")
    if isinstance(command, cmd.Correction):
        raise TypeError("a correction is decided on the history: decide_on_history")
    verifier(command, ctx.today)
    return _rules(state, command, ctx)


def _is_step(command: Commande) -> TypeGuard[Etape]:
    """Narrows a command to the `Etape` union, so that `_step` can be checked exhaustive."""
    return isinstance(command, cmd.STEP_COMMANDS)


def _rules(state: Dossier, command: Commande, ctx: Contexte) -> list[Evenement]:
    """The path's rules alone: what a step already recorded is replayed through when a
    correction changes the history before it (it was bounded when first recorded)."""
    _not_in_future(command.effective_on, ctx.today, "effective_on")
    if not state.existe and not isinstance(command, cmd.EnregistrerEntree):
        raise DossierInconnu
    if not _is_step(command):
        raise TypeError(f"no rule records {type(command).__name__}")
    return _step(state, command, ctx)


def _step(s: Dossier, c: Etape, ctx: Contexte) -> list[Evenement]:
    """The rule of each step command. Exhaustive: a new command in `Etape` without its rule
    fails the type check."""
    match c:
        case cmd.EnregistrerEntree():
            return _entree(s, c, ctx)
        case cmd.RouvrirDroit():
            return _reouverture(s, c, ctx)
        case cmd.SuspendreDroit():
            return _suspension(s, c, ctx)
        case cmd.ReprendreDroit():
            return _reprise(s, c, ctx)
        case cmd.CloreDroit():
            return _cloture(s, c, ctx)
        case cmd.ModifierDroitsDevoirs():
            return _droits_devoirs(s, c, ctx)
        case cmd.DeciderOrientation():
            return _orientation(s, c, ctx)
        case cmd.DeciderReorientation():
            return _reorientation(s, c, ctx)
        case cmd.DesignerReferent():
            return _referent(s, c, ctx)
        case cmd.PlanifierRdv():
            return _rdv(s, c, ctx)
        case cmd.DeplacerRdv():
            return _deplacer_rdv(s, c, ctx)
        case cmd.NoterInvitation():
            return _invitation(s, c, ctx)
        case cmd.EnregistrerIssueRdv():
            return _issue_rdv(s, c, ctx)
        case cmd.SignerCer():
            return _signer_cer(s, c, ctx)
        case cmd.RenouvelerCer():
            return _renouveler_cer(s, c, ctx)
        case cmd.TenirEntretienAsc():
            return _asc(s, c, ctx)
        case cmd.EnregistrerSortie():
            return _sortie(s, c, ctx)
        case cmd.DebuterAccompagnement():
            return _debut_accompagnement(s, c, ctx)
        case cmd.TerminerAccompagnement():
            return _fin_accompagnement(s, c, ctx)
        case cmd.DeciderSanction():
            return _sanction(s, c, ctx)
        case cmd.LeverSanction():
            return _lever_sanction(s, c, ctx)
        case _:
            assert_never(c)


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
    _not_before(
        command.effective_on, state.orientation.date_orientation, "effective_on", "l'orientation"
    )
    return state.orientation


def _flux_dates(command: cmd.EnregistrerEntree | cmd.RouvrirDroit, ctx: Contexte) -> None:
    _not_in_future(command.date_flux, ctx.today, "date_flux")
    _not_in_future(command.date_reception_flux, ctx.today, "date_reception_flux")
    _not_before(command.date_reception_flux, command.date_flux, "date_reception_flux", "le flux")


# --- rights, from the CAF/MSA flux ----------------------------------------------------------


def _entree(state: Dossier, c: cmd.EnregistrerEntree, ctx: Contexte) -> list[Evenement]:
    if state.existe:
        raise DomainError(
            "dossier_existant", "Ce dossier a déjà une entrée: enregistrer une réouverture."
        )
    _flux_dates(c, ctx)
    return [
        ev.EntreeEnregistree(
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


def _reouverture(state: Dossier, c: cmd.RouvrirDroit, ctx: Contexte) -> list[Evenement]:
    if state.episode_ouvert:
        raise DomainError(
            "episode_ouvert", "L'épisode en cours n'est ni clos ni sorti.", "effective_on"
        )
    _not_before(c.effective_on, state.date_entree, "effective_on", "l'entrée précédente")
    _flux_dates(c, ctx)
    return [
        ev.DroitRouvert(
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


def _suspension(state: Dossier, c: cmd.SuspendreDroit, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    if state.droit_suspendu:
        raise DomainError("droit_deja_suspendu", "Le droit est déjà suspendu.")
    return [ev.DroitSuspendu(effective_on=c.effective_on, meta=ctx.meta, motif=c.motif)]


def _reprise(state: Dossier, c: cmd.ReprendreDroit, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    if not state.droit_suspendu:
        raise DomainError("droit_non_suspendu", "Le droit n'est pas suspendu.")
    return [ev.DroitRepris(effective_on=c.effective_on, meta=ctx.meta)]


def _cloture(state: Dossier, c: cmd.CloreDroit, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    return [ev.DroitClos(effective_on=c.effective_on, meta=ctx.meta, motif=c.motif)]


def _droits_devoirs(state: Dossier, c: cmd.ModifierDroitsDevoirs, ctx: Contexte) -> list[Evenement]:
    _right_not_closed(state, c)
    if state.soumis_droits_devoirs == c.soumis_droits_devoirs:
        raise DomainError(
            "droits_devoirs_inchanges",
            "La soumission aux droits et devoirs est déjà celle-ci.",
            "soumis_droits_devoirs",
        )
    return [
        ev.DroitsDevoirsModifies(
            effective_on=c.effective_on,
            meta=ctx.meta,
            soumis_droits_devoirs=c.soumis_droits_devoirs,
        )
    ]


# --- orientation and referent ---------------------------------------------------------------


def _orientation(state: Dossier, c: cmd.DeciderOrientation, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if state.orientation is not None:
        raise DomainError(
            "deja_oriente",
            "Une orientation est en cours: enregistrer une réorientation.",
            "type_orientation",
        )
    return [
        ev.OrientationDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            type_orientation=c.type_orientation,
            organisme=c.organisme,
            structure_id=c.structure_id,
            mode=c.mode,
        )
    ]


def _reorientation(state: Dossier, c: cmd.DeciderReorientation, ctx: Contexte) -> list[Evenement]:
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
        ev.ReorientationDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            type_orientation=c.type_orientation,
            organisme=c.organisme,
            structure_id=c.structure_id,
            motif=c.motif,
            date_avis_ep=c.date_avis_ep,
        )
    ]


def _referent(state: Dossier, c: cmd.DesignerReferent, ctx: Contexte) -> list[Evenement]:
    _current_orientation(state, c)
    return [
        ev.ReferentDesigne(effective_on=c.effective_on, meta=ctx.meta, referent_id=c.referent_id)
    ]


# --- RDV ------------------------------------------------------------------------------------


def _rdv(state: Dossier, c: cmd.PlanifierRdv, ctx: Contexte) -> list[Evenement]:
    if c.type_rdv in RDV_AVANT_ORIENTATION:
        _open_episode(state, c)
    else:
        _current_orientation(state, c)
    _not_before(c.date_rdv, c.effective_on, "date_rdv", "sa planification")
    return [
        ev.RdvPlanifie(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=len(state.rdvs) + 1,
            type_rdv=c.type_rdv,
            mode=c.mode,
            date_rdv=c.date_rdv,
        )
    ]


def _rdv_sans_issue(state: Dossier, c: cmd.DeplacerRdv | cmd.EnregistrerIssueRdv) -> Rdv:
    """The RDV a command names, planned in the open episode and still without an outcome."""
    _open_episode(state, c)
    rdv = state.rdvs.get(c.numero)
    if rdv is None or rdv.episode != state.episode:
        raise DomainError("rdv_inconnu", f"Aucun RDV n°{c.numero} dans cet épisode.", "numero")
    if rdv.issue is not None:
        raise DomainError(
            "issue_deja_enregistree", f"Le RDV n°{c.numero} a déjà une issue.", "numero"
        )
    return rdv


def _deplacer_rdv(state: Dossier, c: cmd.DeplacerRdv, ctx: Contexte) -> list[Evenement]:
    """A RDV is moved while it has no outcome; after one, the outcome is what counts."""
    rdv = _rdv_sans_issue(state, c)
    if c.date_rdv == rdv.date_rdv:
        raise DomainError(
            "rdv_meme_date", f"Le RDV n°{c.numero} est déjà prévu le {c.date_rdv}.", "date_rdv"
        )
    _not_before(c.effective_on, rdv.planifie_le, "effective_on", "la planification")
    _not_before(c.date_rdv, c.effective_on, "date_rdv", "son report")
    return [
        ev.RdvDeplace(
            effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, date_rdv=c.date_rdv
        )
    ]


def _invitation(state: Dossier, c: cmd.NoterInvitation, ctx: Contexte) -> list[Evenement]:
    """An invitation goes on the timeline of an open episode, dated after the entry."""
    _open_episode(state, c)
    return [
        ev.InvitationRdvNotee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            invitation=c.invitation,
            canal=c.canal,
            etat=c.etat,
            type_rdv=c.type_rdv,
        )
    ]


def _issue_rdv(state: Dossier, c: cmd.EnregistrerIssueRdv, ctx: Contexte) -> list[Evenement]:
    rdv = _rdv_sans_issue(state, c)
    if c.issue in (IssueRdv.SEEN, IssueRdv.NOSHOW):
        _not_before(c.effective_on, rdv.date_rdv, "effective_on", "la date du RDV")
    else:
        _not_before(c.effective_on, rdv.planifie_le, "effective_on", "la planification")
    return [
        ev.IssueRdvEnregistree(
            effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, issue=c.issue
        )
    ]


# --- contracts and accompaniment ------------------------------------------------------------


def _cer(
    state: Dossier, c: cmd.SignerCer | cmd.RenouvelerCer, ctx: Contexte, renouvellement: bool
) -> list[Evenement]:
    orientation = _current_orientation(state, c)
    _not_before(c.date_debut, orientation.date_orientation, "date_debut", "l'orientation")
    return [
        ev.CerSigne(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_cer + 1,
            date_debut=c.date_debut,
            duree_mois=c.duree_mois,
            renouvellement=renouvellement,
        )
    ]


def _signer_cer(state: Dossier, c: cmd.SignerCer, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if state.cer is not None:
        raise DomainError(
            "cer_existant", "Un CER existe dans cet épisode: enregistrer un renouvellement."
        )
    return _cer(state, c, ctx, renouvellement=False)


def _renouveler_cer(state: Dossier, c: cmd.RenouvelerCer, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if state.cer is None:
        raise DomainError("cer_requis", "Aucun CER à renouveler dans cet épisode.")
    _not_before(c.date_debut, state.cer.date_debut, "date_debut", "le CER précédent")
    return _cer(state, c, ctx, renouvellement=True)


def _professional_orientation(state: Dossier, c: Commande) -> None:
    """The appui social complémentaire: for a person currently oriented to the professional
    path."""
    orientation = _current_orientation(state, c)
    if orientation.type_orientation is not TypeOrientation.PROFESSIONNELLE:
        raise DomainError(
            "asc_hors_orientation_professionnelle",
            "L'appui social complémentaire concerne les personnes en orientation professionnelle.",
        )


def _asc(state: Dossier, c: cmd.TenirEntretienAsc, ctx: Contexte) -> list[Evenement]:
    _professional_orientation(state, c)
    return [
        ev.EntretienAscTenu(effective_on=c.effective_on, meta=ctx.meta, structure_id=c.structure_id)
    ]


def _debut_accompagnement(
    state: Dossier, c: cmd.DebuterAccompagnement, ctx: Contexte
) -> list[Evenement]:
    _open_episode(state, c)
    if c.objet is ObjetAccompagnement.ASC:
        _professional_orientation(state, c)
    if c.objet in state.accompagnants.get(c.structure_id, frozenset()):
        raise DomainError(
            "accompagnement_en_cours",
            f"La structure {c.structure_id} accompagne déjà la personne ({c.objet.value}).",
            "structure_id",
        )
    return [
        ev.AccompagnementDebute(
            effective_on=c.effective_on, meta=ctx.meta, structure_id=c.structure_id, objet=c.objet
        )
    ]


def _fin_accompagnement(
    state: Dossier, c: cmd.TerminerAccompagnement, ctx: Contexte
) -> list[Evenement]:
    """Ends an accompaniment started in this episode, also once the person has exited or the
    right is closed (the structure says when it stopped); the orientation's own ends with a
    réorientation, not here."""
    _not_before(c.effective_on, state.date_entree, "effective_on", "l'entrée")
    started = state.accompagnements.get((c.structure_id, c.objet))
    if started is None:
        implied = c.objet in state.accompagnants.get(c.structure_id, frozenset())
        raise DomainError(
            "accompagnement_non_ouvert",
            f"La structure {c.structure_id} accompagne la personne au titre de son orientation: "
            "enregistrer une réorientation."
            if implied
            else f"Aucun accompagnement {c.objet.value} en cours par {c.structure_id}.",
            "structure_id",
        )
    _not_before(c.effective_on, started, "effective_on", "le début de l'accompagnement")
    return [
        ev.AccompagnementTermine(
            effective_on=c.effective_on,
            meta=ctx.meta,
            structure_id=c.structure_id,
            objet=c.objet,
            motif=c.motif,
        )
    ]


def _sortie(state: Dossier, c: cmd.EnregistrerSortie, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    return [
        ev.SortieEnregistree(effective_on=c.effective_on, meta=ctx.meta, type_sortie=c.type_sortie)
    ]


def _sanction(state: Dossier, c: cmd.DeciderSanction, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    return [
        ev.SanctionDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_sanctions + 1,
            type_sanction=c.type_sanction,
            motif=c.motif,
        )
    ]


def _lever_sanction(state: Dossier, c: cmd.LeverSanction, ctx: Contexte) -> list[Evenement]:
    _open_episode(state, c)
    if c.numero not in state.sanctions_en_cours:
        raise DomainError(
            "sanction_non_en_vigueur", f"La sanction n°{c.numero} n'est pas en vigueur.", "numero"
        )
    return [
        ev.SanctionLevee(effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, motif=c.motif)
    ]


# --- corrections ----------------------------------------------------------------------------


def decide_on_history(
    history: Sequence[Recorded], command: Commande, ctx: Contexte
) -> list[Evenement]:
    """`decide` for any command, given the case's raw history: a step is checked against the
    state the effective history folds to (corrections applied), a correction against the
    history it corrects."""
    match command:
        case cmd.AnnulerEtape() | cmd.RectifierEtape():
            _not_in_future(command.effective_on, ctx.today, "effective_on")
            verifier(command, ctx.today)
            if isinstance(command, cmd.AnnulerEtape):
                return _annuler(history, command, ctx)
            return _rectifier(history, command, ctx)
        case _:
            return decide(fold_history(history), command, ctx)


def _target(history: Sequence[Recorded], version: int, field: str) -> Recorded:
    """The step a correction names: an existing, not voided step of the case."""
    if not 1 <= version <= len(history):
        raise DomainError(
            "version_inconnue", f"Le dossier n'a pas d'étape en version {version}.", field
        )
    target = history[version - 1]
    if is_correction(target.event):
        raise DomainError(
            "correction_non_corrigeable",
            f"La version {version} est une correction: une correction ne se corrige pas, "
            "enregistrer de nouveau l'étape voulue.",
            field,
        )
    if any(
        isinstance(r.event, ev.EtapeAnnulee) and r.event.version_annulee == version for r in history
    ):
        raise DomainError("etape_deja_annulee", f"L'étape {version} est déjà annulée.", field)
    return target


def _motif(motif: str) -> None:
    if not motif.strip():
        raise DomainError("motif_requis", "Une correction dit pourquoi.", "motif")


def _coherent(history: Sequence[Recorded], ctx: Contexte, field: str) -> None:
    """Replay the corrected history through the rules: every later step must still be one the
    rules accept (a correction cannot leave a CER without orientation, an outcome before its
    RDV, a step before the entry…)."""
    state = Dossier()
    for r in effective_history(history):
        command = command_of(r.event)
        if command is not None:
            try:
                _rules(state, command, Contexte(today=ctx.today, meta=r.event.meta))
            except DomainError as e:
                raise DomainError(
                    "correction_incoherente",
                    f"Après cette correction, l'étape {r.originator_version} "
                    f"({type(r.event).__name__}) serait refusée: {e.detail}",
                    field,
                ) from None
        state = evolve(state, r.event)


def _annuler(history: Sequence[Recorded], c: cmd.AnnulerEtape, ctx: Contexte) -> list[Evenement]:
    if not history:
        raise DossierInconnu
    target = _target(history, c.version_annulee, "version_annulee")
    if isinstance(target.event, ev.EntreeEnregistree):
        raise DomainError(
            "entree_non_annulable",
            "L'entrée ne s'annule pas: elle porte le dossier (clore le droit, ou rectifier sa date).",
            "version_annulee",
        )
    _motif(c.motif)
    _not_before(c.effective_on, target.event.effective_on, "effective_on", "l'étape annulée")
    event = ev.EtapeAnnulee(
        effective_on=c.effective_on, meta=ctx.meta, version_annulee=c.version_annulee, motif=c.motif
    )
    _coherent(
        [*history, Recorded(history[0].originator_id, len(history) + 1, event)],
        ctx,
        "version_annulee",
    )
    return [event]


def _rectifier(
    history: Sequence[Recorded], c: cmd.RectifierEtape, ctx: Contexte
) -> list[Evenement]:
    if not history:
        raise DossierInconnu
    target = _target(history, c.version_rectifiee, "version_rectifiee")
    _motif(c.motif)
    _not_in_future(c.effective_on_corrige, ctx.today, "effective_on_corrige")
    _not_before(c.effective_on, target.event.effective_on, "effective_on", "l'étape rectifiée")
    current = next(
        r.event.effective_on
        for r in effective_history(history)
        if r.originator_version == c.version_rectifiee
    )
    if c.effective_on_corrige == current:
        raise DomainError(
            "date_inchangee",
            f"L'étape {c.version_rectifiee} a déjà pris effet le {current}.",
            "effective_on_corrige",
        )
    event = ev.EtapeRectifiee(
        effective_on=c.effective_on,
        meta=ctx.meta,
        version_rectifiee=c.version_rectifiee,
        effective_on_corrige=c.effective_on_corrige,
        motif=c.motif,
    )
    corrected = [*history, Recorded(history[0].originator_id, len(history) + 1, event)]
    _coherent(corrected, ctx, "effective_on_corrige")
    return [event]


def command_of(e: Evenement) -> Commande | None:
    """The command that records event `e` (what the rules check a replayed step as). Exhaustive
    over the case events: a correction, or another aggregate's event, replays as no command."""
    if not ev.is_fait(e):
        return None
    d = e.effective_on
    match e:
        case ev.EntreeEnregistree():
            return cmd.EnregistrerEntree(
                effective_on=d,
                numero_dossier=e.numero_dossier,
                organisme_payeur=e.organisme_payeur,
                date_flux=e.date_flux,
                date_reception_flux=e.date_reception_flux,
                soumis_droits_devoirs=e.soumis_droits_devoirs,
                profil=e.profil,
            )
        case ev.DroitRouvert():
            return cmd.RouvrirDroit(
                effective_on=d,
                date_flux=e.date_flux,
                date_reception_flux=e.date_reception_flux,
                soumis_droits_devoirs=e.soumis_droits_devoirs,
                profil=e.profil,
            )
        case ev.DroitSuspendu():
            return cmd.SuspendreDroit(effective_on=d, motif=e.motif)
        case ev.DroitRepris():
            return cmd.ReprendreDroit(effective_on=d)
        case ev.DroitClos():
            return cmd.CloreDroit(effective_on=d, motif=e.motif)
        case ev.DroitsDevoirsModifies():
            return cmd.ModifierDroitsDevoirs(
                effective_on=d, soumis_droits_devoirs=e.soumis_droits_devoirs
            )
        case ev.OrientationDecidee():
            return cmd.DeciderOrientation(
                effective_on=d,
                type_orientation=e.type_orientation,
                organisme=e.organisme,
                structure_id=e.structure_id,
                mode=e.mode,
            )
        case ev.ReorientationDecidee():
            return cmd.DeciderReorientation(
                effective_on=d,
                type_orientation=e.type_orientation,
                organisme=e.organisme,
                structure_id=e.structure_id,
                motif=e.motif,
                date_avis_ep=e.date_avis_ep,
            )
        case ev.ReferentDesigne():
            return cmd.DesignerReferent(effective_on=d, referent_id=e.referent_id)
        case ev.RdvPlanifie():
            return cmd.PlanifierRdv(
                effective_on=d, type_rdv=e.type_rdv, mode=e.mode, date_rdv=e.date_rdv
            )
        case ev.InvitationRdvNotee():
            return cmd.NoterInvitation(
                effective_on=d,
                invitation=e.invitation,
                canal=e.canal,
                etat=e.etat,
                type_rdv=e.type_rdv,
            )
        case ev.RdvDeplace():
            return cmd.DeplacerRdv(effective_on=d, numero=e.numero, date_rdv=e.date_rdv)
        case ev.IssueRdvEnregistree():
            return cmd.EnregistrerIssueRdv(effective_on=d, numero=e.numero, issue=e.issue)
        case ev.CerSigne():
            duree = cast(Literal[6, 9, 12], e.duree_mois)
            kind = cmd.RenouvelerCer if e.renouvellement else cmd.SignerCer
            return kind(effective_on=d, date_debut=e.date_debut, duree_mois=duree)
        case ev.EntretienAscTenu():
            return cmd.TenirEntretienAsc(effective_on=d, structure_id=e.structure_id)
        case ev.AccompagnementDebute():
            return cmd.DebuterAccompagnement(
                effective_on=d, structure_id=e.structure_id, objet=e.objet
            )
        case ev.AccompagnementTermine():
            return cmd.TerminerAccompagnement(
                effective_on=d, structure_id=e.structure_id, objet=e.objet, motif=e.motif
            )
        case ev.SortieEnregistree():
            return cmd.EnregistrerSortie(effective_on=d, type_sortie=e.type_sortie)
        case ev.SanctionDecidee():
            return cmd.DeciderSanction(effective_on=d, type_sanction=e.type_sanction, motif=e.motif)
        case ev.SanctionLevee():
            return cmd.LeverSanction(effective_on=d, numero=e.numero, motif=e.motif)
        case ev.EtapeAnnulee() | ev.EtapeRectifiee():
            return None
        case _:
            assert_never(e)
