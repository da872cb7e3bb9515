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
from domain.dossier import (
    Dossier,
    Orientation,
    Rdv,
    Saisine,
    Statut,
    evolve,
    fold_history,
)
from domain.errors import DomainError, DossierInconnu
from domain.events import Evenement, Meta, Recorded
from domain.sanctions import REGIMES, SANS_MONTANT, Regimes
from domain.vocabulary import (
    RDV_AVANT_ORIENTATION,
    AvisEp,
    IssueRdv,
    MotifSaisineEp,
    ObjetAccompagnement,
    TypeOrientation,
    TypeSanction,
)


class Contexte(msgspec.Struct, frozen=True, kw_only=True):
    """What the edge knows and the rules need: today's date, who is recording, and the dated
    sanction regimes (the national ones, with a département's own when it adds them)."""

    today: date
    meta: Meta
    regimes: Regimes = REGIMES
    rejeu: bool = False
    """Replaying a recorded history (a correction's check): steps recorded before the EP
    procedure was kept here replay as they were accepted then."""


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
        case cmd.ConstaterRemobilisation():
            return _remobilisation(s, c, ctx)
        case cmd.SaisirEp():
            return _saisir_ep(s, c, ctx)
        case cmd.InscrireOrdreDuJour():
            return _inscrire(s, c, ctx)
        case cmd.NotifierObservations():
            return _notifier(s, c, ctx)
        case cmd.RecevoirObservations():
            return _observations(s, c, ctx)
        case cmd.RendreAvisEp():
            return _avis(s, c, ctx)
        case cmd.ClasserSaisine():
            return _classer(s, c, ctx)
        case cmd.SignerContratEngagement():
            return _signer_contrat(s, c, ctx)
        case cmd.RenouvelerContratEngagement():
            return _renouveler_contrat(s, c, ctx)
        case cmd.AmenderContratEngagement():
            return _amender_contrat(s, c, ctx)
        case cmd.TerminerContratEngagement():
            return _terminer_contrat(s, c, ctx)
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
    avis_suivi: bool | None = None
    vers_social = (
        current.type_orientation is TypeOrientation.PROFESSIONNELLE
        and c.type_orientation is TypeOrientation.SOCIALE
    )
    if c.saisine is not None:
        saisine = _procedure(state, c.saisine, MotifSaisineEp.REORIENTATION_SOCIALE, c, ctx)
        if not vers_social:
            raise DomainError(
                "reorientation_hors_saisine",
                "La saisine de l'EP porte sur une réorientation du professionnel vers le social.",
                "type_orientation",
            )
        avis_suivi = saisine.avis is AvisEp.REORIENTATION
    elif (
        vers_social
        and not ctx.rejeu
        and (c.date_avis_ep is None or ctx.regimes.procedure_requise(c.effective_on))
    ):
        raise DomainError(
            "saisine_requise",
            "Une réorientation du parcours professionnel vers le parcours social se décide après "
            "l'avis de l'EP: manquent la saisine de l'EP, son inscription à une séance et l'avis "
            "de l'EP (une date d'avis seule ne suffit pas); saisir l'EP et nommer la saisine.",
            "saisine",
        )
    return [
        ev.ReorientationDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            type_orientation=c.type_orientation,
            organisme=c.organisme,
            structure_id=c.structure_id,
            motif=c.motif,
            date_avis_ep=c.date_avis_ep,
            saisine=c.saisine,
            avis_suivi=avis_suivi,
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
    if c.saisine is None:
        return _sanction_sans_procedure(state, c, ctx)
    saisine = _procedure(state, c.saisine, MotifSaisineEp.SANCTION, c, ctx)
    regime = ctx.regimes.en_vigueur(c.effective_on)
    rang = state.sanctions_episode() + 1
    palier = regime.palier(rang, c.type_sanction)
    if palier is None:
        admis = ", ".join(t.value for t in (regime.premier if rang <= 1 else regime.suivant))
        quel = "premier manquement" if rang <= 1 else "manquement suivant"
        raise DomainError(
            "sanction_hors_regime",
            f"Sous le régime {regime.nom} ({regime.libelle}), un {quel} admet: {admis}.",
            "type_sanction",
        )
    debut = c.date_debut or c.effective_on
    _not_before(debut, c.effective_on, "date_debut", "la décision")
    if c.type_sanction in SANS_MONTANT:
        for name in ("pourcentage", "duree_mois", "montant_mensuel_centimes"):
            if getattr(c, name) is not None:
                raise DomainError(
                    "sanction_sans_montant",
                    f"Une {c.type_sanction.value} ne suspend pas une part de l'allocation.",
                    name,
                )
    else:
        for name in ("pourcentage", "duree_mois", "montant_mensuel_centimes", "personnes_foyer"):
            if getattr(c, name) is None:
                raise DomainError(
                    "terme_requis", f"La décision fixe {name.replace('_', ' ')}.", name
                )
        assert c.pourcentage is not None
        assert c.duree_mois is not None
        if not palier.pourcentage_min <= c.pourcentage <= palier.pourcentage_max:
            raise DomainError(
                "pourcentage_hors_regime",
                f"Sous le régime {regime.nom}: de {palier.pourcentage_min} à "
                f"{palier.pourcentage_max} % de l'allocation.",
                "pourcentage",
            )
        foyer = c.personnes_foyer or 1
        if regime.plafond_foyer is not None and foyer > 1 and c.pourcentage > regime.plafond_foyer:
            raise DomainError(
                "plafond_foyer",
                f"Pour un foyer de {foyer} personnes, la part est plafonnée à "
                f"{regime.plafond_foyer} %.",
                "pourcentage",
            )
        if not palier.mois_min <= c.duree_mois <= palier.mois_max:
            raise DomainError(
                "duree_hors_regime",
                f"Sous le régime {regime.nom}: de {palier.mois_min} à {palier.mois_max} mois.",
                "duree_mois",
            )
        if c.personnes_foyer is not None and c.personnes_foyer < 1:
            raise DomainError(
                "foyer_vide", "Un foyer compte au moins une personne.", "personnes_foyer"
            )
    return [
        ev.SanctionDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_sanctions + 1,
            type_sanction=c.type_sanction,
            motif=c.motif,
            saisine=c.saisine,
            regime=regime.nom,
            rang=rang,
            pourcentage=c.pourcentage,
            duree_mois=c.duree_mois,
            date_debut=debut,
            montant_mensuel_centimes=c.montant_mensuel_centimes,
            personnes_foyer=c.personnes_foyer,
            avis_suivi=saisine.avis is AvisEp.SANCTION,
        )
    ]


_SANS_PROCEDURE = frozenset({TypeSanction.REDUCTION, TypeSanction.SUSPENSION})
"""The kinds a sanction recorded without its referral may take, on a date whose regime does not
require the procedure (`procedure_ep = false`, a département's taken-over period) or in a
correction's replay of a history recorded before the rule: decisions taken elsewhere."""


def _sanction_sans_procedure(
    state: Dossier, c: cmd.DeciderSanction, ctx: Contexte
) -> list[Evenement]:
    terms = (
        "pourcentage",
        "duree_mois",
        "date_debut",
        "montant_mensuel_centimes",
        "personnes_foyer",
    )
    given = next((name for name in terms if getattr(c, name) is not None), None)
    if not ctx.rejeu and (
        ctx.regimes.procedure_requise(c.effective_on)
        or c.type_sanction not in _SANS_PROCEDURE
        or given is not None
    ):
        raise DomainError(
            "saisine_requise",
            "Une sanction se décide après la procédure de l'EP: manquent la saisine de l'EP, la "
            "notification à la personne de son délai pour présenter ses observations, "
            "l'inscription à une séance et l'avis de l'EP; saisir l'EP et nommer la saisine.",
            "saisine",
        )
    return [
        ev.SanctionDecidee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_sanctions + 1,
            type_sanction=c.type_sanction,
            motif=c.motif,
        )
    ]


def _remobilisation(
    state: Dossier, c: cmd.ConstaterRemobilisation, ctx: Contexte
) -> list[Evenement]:
    _open_episode(state, c)
    sanction = state.sanctions.get(c.numero)
    if sanction is None or c.numero not in state.sanctions_en_cours:
        raise DomainError(
            "sanction_non_en_vigueur", f"La sanction n°{c.numero} n'est pas en vigueur.", "numero"
        )
    regime = ctx.regimes.par_nom(sanction.regime) if sanction.regime else None
    if (
        sanction.type_sanction is not TypeSanction.SUSPENSION_REMOBILISATION
        or regime is None
        or not regime.remobilisation
    ):
        raise DomainError(
            "sanction_sans_remobilisation",
            f"La sanction n°{c.numero} n'est pas une suspension-remobilisation.",
            "numero",
        )
    _not_before(c.effective_on, sanction.date_debut, "effective_on", "le début de la suspension")
    if sanction.date_fin is not None:
        limite = regime.remobilisation_apres_fin.echeance(sanction.date_fin)
        if c.effective_on >= limite:
            raise DomainError(
                "delai_remobilisation_depasse",
                f"La suspension a pris fin le {sanction.date_fin}: les montants suspendus sont "
                "perdus.",
                "effective_on",
            )
    return [
        ev.RemobilisationConstatee(
            effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, motif=c.motif
        )
    ]


# --- the EP procedure -------------------------------------------------------------------------


def _saisine_ouverte(state: Dossier, numero: int, c: Commande) -> Saisine:
    """A referral of the open episode on which the president has not decided yet."""
    _open_episode(state, c)
    saisine = state.saisines.get(numero)
    if saisine is None or saisine.episode != state.episode:
        raise DomainError(
            "saisine_inconnue", f"Aucune saisine n°{numero} dans cet épisode.", "saisine"
        )
    if saisine.close_le is not None:
        raise DomainError(
            "saisine_close",
            f"La saisine n°{numero} a déjà été décidée le {saisine.close_le}.",
            "saisine",
        )
    _not_before(c.effective_on, saisine.saisie_le, "effective_on", "la saisine")
    return saisine


def _contradictoire(saisine: Saisine, jour: date) -> None:
    """The person could present observations: notified, and they answered or the delay ran."""
    if saisine.notifiee_le is None or saisine.date_limite is None:
        raise DomainError(
            "observations_non_notifiees",
            f"Saisine n°{saisine.numero}: la personne n'a pas été invitée à présenter ses "
            "observations.",
            "saisine",
        )
    if saisine.observations_le is None and jour <= saisine.date_limite:
        raise DomainError(
            "delai_observations_en_cours",
            f"Saisine n°{saisine.numero}: la personne a jusqu'au {saisine.date_limite} pour "
            "présenter ses observations.",
            "effective_on",
        )


def _procedure(
    state: Dossier, numero: int, motif: MotifSaisineEp, c: Commande, ctx: Contexte
) -> Saisine:
    """The steps a decision needs, the first one missing named: the referral for this motive,
    the contradictory procedure (sanction), the EP's opinion."""
    saisine = _saisine_ouverte(state, numero, c)
    if saisine.motif is not motif:
        raise DomainError(
            "saisine_autre_motif",
            f"La saisine n°{numero} porte sur: {saisine.motif.value}.",
            "saisine",
        )
    if motif is MotifSaisineEp.SANCTION:
        _contradictoire(saisine, c.effective_on)
    if saisine.avis is None or saisine.avis_le is None:
        raise DomainError(
            "avis_ep_requis",
            f"Saisine n°{numero}: l'EP n'a pas rendu son avis.",
            "saisine",
        )
    _not_before(c.effective_on, saisine.avis_le, "effective_on", "l'avis de l'EP")
    return saisine


def _saisir_ep(state: Dossier, c: cmd.SaisirEp, ctx: Contexte) -> list[Evenement]:
    orientation = _current_orientation(state, c)
    if (
        c.motif_saisine is MotifSaisineEp.REORIENTATION_SOCIALE
        and orientation.type_orientation is not TypeOrientation.PROFESSIONNELLE
    ):
        raise DomainError(
            "saisine_hors_orientation_professionnelle",
            "La réorientation vers le social se soumet à l'EP pour une personne orientée vers "
            "le parcours professionnel.",
            "motif_saisine",
        )
    if not c.manquement.strip():
        raise DomainError("motif_requis", "La saisine dit ce qui est soumis à l'EP.", "manquement")
    if c.date_manquement is not None:
        _not_in_future(c.date_manquement, c.effective_on, "date_manquement")
    return [
        ev.EpSaisie(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=len(state.saisines) + 1,
            motif_saisine=c.motif_saisine,
            ep_id=c.ep_id,
            manquement=c.manquement,
            date_manquement=c.date_manquement,
        )
    ]


def _inscrire(state: Dossier, c: cmd.InscrireOrdreDuJour, ctx: Contexte) -> list[Evenement]:
    saisine = _saisine_ouverte(state, c.saisine, c)
    if saisine.avis is not None:
        raise DomainError(
            "avis_deja_rendu",
            f"L'EP a déjà rendu son avis sur la saisine n°{c.saisine}.",
            "saisine",
        )
    _not_before(c.date_session, c.effective_on, "date_session", "l'inscription")
    return [
        ev.SaisineInscrite(
            effective_on=c.effective_on,
            meta=ctx.meta,
            saisine=c.saisine,
            session_id=c.session_id,
            date_session=c.date_session,
        )
    ]


def _notifier(state: Dossier, c: cmd.NotifierObservations, ctx: Contexte) -> list[Evenement]:
    saisine = _saisine_ouverte(state, c.saisine, c)
    if saisine.notifiee_le is not None:
        raise DomainError(
            "observations_deja_notifiees",
            f"La personne a été notifiée le {saisine.notifiee_le}.",
            "saisine",
        )
    regime = ctx.regimes.en_vigueur(c.effective_on)
    return [
        ev.ObservationsNotifiees(
            effective_on=c.effective_on,
            meta=ctx.meta,
            saisine=c.saisine,
            date_limite=regime.delai_observations.echeance(c.effective_on),
        )
    ]


def _observations(state: Dossier, c: cmd.RecevoirObservations, ctx: Contexte) -> list[Evenement]:
    saisine = _saisine_ouverte(state, c.saisine, c)
    if saisine.notifiee_le is None:
        raise DomainError(
            "observations_non_notifiees",
            f"Saisine n°{c.saisine}: notifier d'abord la procédure à la personne.",
            "saisine",
        )
    if saisine.avis is not None:
        raise DomainError(
            "avis_deja_rendu",
            f"L'EP a déjà rendu son avis sur la saisine n°{c.saisine}.",
            "saisine",
        )
    _not_before(c.effective_on, saisine.notifiee_le, "effective_on", "la notification")
    return [
        ev.ObservationsRecues(
            effective_on=c.effective_on,
            meta=ctx.meta,
            saisine=c.saisine,
            audition_demandee=c.audition_demandee,
            resume=c.resume,
        )
    ]


_AVIS: dict[MotifSaisineEp, frozenset[AvisEp]] = {
    MotifSaisineEp.SANCTION: frozenset({AvisEp.SANCTION, AvisEp.PAS_DE_SANCTION}),
    MotifSaisineEp.REORIENTATION_SOCIALE: frozenset({AvisEp.REORIENTATION, AvisEp.MAINTIEN}),
}


def _avis(state: Dossier, c: cmd.RendreAvisEp, ctx: Contexte) -> list[Evenement]:
    saisine = _saisine_ouverte(state, c.saisine, c)
    if saisine.avis is not None:
        raise DomainError(
            "avis_deja_rendu",
            f"L'EP a déjà rendu son avis sur la saisine n°{c.saisine}.",
            "saisine",
        )
    if c.avis not in _AVIS[saisine.motif]:
        admis = ", ".join(sorted(a.value for a in _AVIS[saisine.motif]))
        raise DomainError(
            "avis_hors_saisine", f"Sur une saisine {saisine.motif.value}: {admis}.", "avis"
        )
    if saisine.date_session is None:
        raise DomainError(
            "inscription_requise",
            f"La saisine n°{c.saisine} n'est inscrite à l'ordre du jour d'aucune séance.",
            "saisine",
        )
    _not_before(c.effective_on, saisine.date_session, "effective_on", "la séance de l'EP")
    if saisine.motif is MotifSaisineEp.SANCTION:
        _contradictoire(saisine, c.effective_on)
    return [
        ev.AvisEpRendu(
            effective_on=c.effective_on,
            meta=ctx.meta,
            saisine=c.saisine,
            avis=c.avis,
            pourcentage=c.pourcentage,
            duree_mois=c.duree_mois,
            motif=c.motif,
        )
    ]


def _classer(state: Dossier, c: cmd.ClasserSaisine, ctx: Contexte) -> list[Evenement]:
    saisine = _saisine_ouverte(state, c.saisine, c)
    if not c.motif.strip():
        raise DomainError("motif_requis", "Le classement dit pourquoi.", "motif")
    suivi = None
    if saisine.avis is not None:
        suivi = saisine.avis in (AvisEp.PAS_DE_SANCTION, AvisEp.MAINTIEN)
    return [
        ev.SaisineClassee(
            effective_on=c.effective_on,
            meta=ctx.meta,
            saisine=c.saisine,
            motif=c.motif,
            avis_suivi=suivi,
        )
    ]


# --- the contrat d'engagement -----------------------------------------------------------------


def _heures(heures: int, empechement: str | None, jour: date, ctx: Contexte) -> None:
    """The weekly hours the regime in force asks, unless the person is legitimately
    prevented (then fewer, never more than the maximum)."""
    regime = ctx.regimes.en_vigueur(jour)
    low, high = regime.heures_min or 0, regime.heures_max
    if empechement is not None and empechement.strip():
        low = 0
    if heures < low or (high is not None and heures > high):
        raise DomainError(
            "heures_hors_limites",
            f"De {low} à {high} heures d'activité par semaine"
            + ("" if low == 0 else ", sauf empêchement légitime (le dire dans empechement)")
            + ".",
            "heures_hebdo",
        )


def _contrat(
    state: Dossier,
    c: cmd.SignerContratEngagement | cmd.RenouvelerContratEngagement,
    ctx: Contexte,
    renouvellement: bool,
) -> list[Evenement]:
    orientation = _current_orientation(state, c)
    regime = ctx.regimes.en_vigueur(c.effective_on)
    if regime.contrat != "contrat_engagement":
        raise DomainError(
            "contrat_hors_regime",
            f"Le {c.effective_on}, le régime {regime.nom} prévoit un CER, pas un contrat "
            "d'engagement.",
            "effective_on",
        )
    _not_before(c.date_debut, orientation.date_orientation, "date_debut", "l'orientation")
    if not 1 <= c.duree_mois <= 24:
        raise DomainError("duree_invalide", "Durée: de 1 à 24 mois.", "duree_mois")
    for name in ("objectifs", "actions"):
        items: list[str] = getattr(c, name)
        if not items or not all(item.strip() for item in items):
            raise DomainError("contenu_requis", f"Le contrat énonce ses {name}.", name)
    _heures(c.heures_hebdo, c.empechement, c.effective_on, ctx)
    return [
        ev.ContratEngagementSigne(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=state.nb_contrats_engagement + 1,
            date_debut=c.date_debut,
            duree_mois=c.duree_mois,
            objectifs=c.objectifs,
            actions=c.actions,
            heures_hebdo=c.heures_hebdo,
            empechement=c.empechement,
            referent_id=c.referent_id,
            renouvellement=renouvellement,
        )
    ]


def _signer_contrat(
    state: Dossier, c: cmd.SignerContratEngagement, ctx: Contexte
) -> list[Evenement]:
    _open_episode(state, c)
    if state.contrat_engagement is not None:
        raise DomainError(
            "contrat_existant",
            "Un contrat d'engagement est en cours: enregistrer un renouvellement ou un avenant.",
        )
    return _contrat(state, c, ctx, renouvellement=False)


def _renouveler_contrat(
    state: Dossier, c: cmd.RenouvelerContratEngagement, ctx: Contexte
) -> list[Evenement]:
    _open_episode(state, c)
    current = state.contrat_engagement
    if current is None:
        raise DomainError("contrat_requis", "Aucun contrat d'engagement à renouveler.")
    _not_before(c.date_debut, current.date_debut, "date_debut", "le contrat précédent")
    return _contrat(state, c, ctx, renouvellement=True)


def _contrat_en_cours(state: Dossier, numero: int, c: Commande) -> None:
    _open_episode(state, c)
    current = state.contrat_engagement
    if current is None or current.numero != numero:
        raise DomainError(
            "contrat_inconnu", f"Le contrat d'engagement n°{numero} n'est pas en cours.", "numero"
        )


def _amender_contrat(
    state: Dossier, c: cmd.AmenderContratEngagement, ctx: Contexte
) -> list[Evenement]:
    _contrat_en_cours(state, c.numero, c)
    current = state.contrat_engagement
    assert current is not None
    if not c.motif.strip():
        raise DomainError("motif_requis", "Un avenant dit pourquoi.", "motif")
    changes = (c.objectifs, c.actions, c.heures_hebdo, c.empechement)
    if all(x is None for x in changes):
        raise DomainError("avenant_vide", "L'avenant ne change rien au contrat.", "objectifs")
    for name in ("objectifs", "actions"):
        items: list[str] | None = getattr(c, name)
        if items is not None and (not items or not all(i.strip() for i in items)):
            raise DomainError("contenu_requis", f"Le contrat énonce ses {name}.", name)
    heures = current.heures_hebdo if c.heures_hebdo is None else c.heures_hebdo
    empechement = current.empechement if c.empechement is None else c.empechement
    _heures(heures, empechement, c.effective_on, ctx)
    return [
        ev.ContratEngagementAmende(
            effective_on=c.effective_on,
            meta=ctx.meta,
            numero=c.numero,
            motif=c.motif,
            objectifs=c.objectifs,
            actions=c.actions,
            heures_hebdo=c.heures_hebdo,
            empechement=c.empechement,
        )
    ]


def _terminer_contrat(
    state: Dossier, c: cmd.TerminerContratEngagement, ctx: Contexte
) -> list[Evenement]:
    _contrat_en_cours(state, c.numero, c)
    if not c.motif.strip():
        raise DomainError("motif_requis", "La fin du contrat dit pourquoi.", "motif")
    return [
        ev.ContratEngagementTermine(
            effective_on=c.effective_on, meta=ctx.meta, numero=c.numero, motif=c.motif
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
                replay = Contexte(
                    today=ctx.today, meta=r.event.meta, regimes=ctx.regimes, rejeu=True
                )
                _rules(state, command, replay)
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
                saisine=e.saisine,
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
            return cmd.DeciderSanction(
                effective_on=d,
                type_sanction=e.type_sanction,
                motif=e.motif,
                saisine=e.saisine,
                pourcentage=e.pourcentage,
                duree_mois=e.duree_mois,
                date_debut=e.date_debut if e.saisine is not None else None,
                montant_mensuel_centimes=e.montant_mensuel_centimes,
                personnes_foyer=e.personnes_foyer,
            )
        case ev.SanctionLevee():
            return cmd.LeverSanction(effective_on=d, numero=e.numero, motif=e.motif)
        case ev.RemobilisationConstatee():
            return cmd.ConstaterRemobilisation(effective_on=d, numero=e.numero, motif=e.motif)
        case ev.EpSaisie():
            return cmd.SaisirEp(
                effective_on=d,
                motif_saisine=e.motif_saisine,
                ep_id=e.ep_id,
                manquement=e.manquement,
                date_manquement=e.date_manquement,
            )
        case ev.SaisineInscrite():
            return cmd.InscrireOrdreDuJour(
                effective_on=d,
                saisine=e.saisine,
                session_id=e.session_id,
                date_session=e.date_session,
            )
        case ev.ObservationsNotifiees():
            return cmd.NotifierObservations(effective_on=d, saisine=e.saisine)
        case ev.ObservationsRecues():
            return cmd.RecevoirObservations(
                effective_on=d,
                saisine=e.saisine,
                audition_demandee=e.audition_demandee,
                resume=e.resume,
            )
        case ev.AvisEpRendu():
            return cmd.RendreAvisEp(
                effective_on=d,
                saisine=e.saisine,
                avis=e.avis,
                pourcentage=e.pourcentage,
                duree_mois=e.duree_mois,
                motif=e.motif,
            )
        case ev.SaisineClassee():
            return cmd.ClasserSaisine(effective_on=d, saisine=e.saisine, motif=e.motif)
        case ev.ContratEngagementSigne():
            contract = (
                cmd.RenouvelerContratEngagement if e.renouvellement else cmd.SignerContratEngagement
            )
            return contract(
                effective_on=d,
                date_debut=e.date_debut,
                duree_mois=e.duree_mois,
                objectifs=e.objectifs,
                actions=e.actions,
                heures_hebdo=e.heures_hebdo,
                empechement=e.empechement,
                referent_id=e.referent_id,
            )
        case ev.ContratEngagementAmende():
            return cmd.AmenderContratEngagement(
                effective_on=d,
                numero=e.numero,
                motif=e.motif,
                objectifs=e.objectifs,
                actions=e.actions,
                heures_hebdo=e.heures_hebdo,
                empechement=e.empechement,
            )
        case ev.ContratEngagementTermine():
            return cmd.TerminerContratEngagement(effective_on=d, numero=e.numero, motif=e.motif)
        case ev.EtapeAnnulee() | ev.EtapeRectifiee():
            return None
        case _:
            assert_never(e)
