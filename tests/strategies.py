"""Hypothesis strategies: plausible paths of several allocataires, keyed in 2023-2024.

`histories()` draws, step by step, which case an agent works on, how many days passed, and a
command that makes sense for that case as the rules see it (an outcome names a RDV that exists,
a lift names a sanction in force, a renewal follows a contract...), with now and then a command
the rules refuse (a second orientation, an unknown RDV, a step on a closed episode). To know
what makes sense it folds the accepted commands through the pure domain, so a history also
says which version each case should reach once pushed through the application.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import strategies as st

from domain import commands as c
from domain.decide import Contexte, decide
from domain.dossier import Dossier, Saisine, fold
from domain.errors import DomainError
from domain.events import Meta
from domain.vocabulary import (
    AvisEp,
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    MotifSaisineEp,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)

START = date(2023, 1, 1)
LAST_DAY = date(2024, 12, 31)
"""Every drawn date falls in [START, LAST_DAY + a few weeks of planned RDV/contract dates]."""

STRUCTURES = ("ccas-1", "ccas-2", "mds-1", "ft-1", "aave-1")
REFERENTS = ("ref-1", "ref-2", "ref-3")

_MODEL = Contexte(
    today=LAST_DAY,
    meta=Meta(recorded_at=datetime(2024, 12, 31, tzinfo=UTC), recorded_by="model", request_id="m"),
)


@dataclass(frozen=True)
class History:
    """Commands for `cases` allocataires, in the order they are keyed."""

    cases: int
    steps: tuple[tuple[int, c.Commande], ...]
    versions: tuple[int, ...]
    """Events each case holds once every step is pushed and the refused ones skipped."""


Draw = Callable[[st.SearchStrategy[Any]], Any]


def _plus(draw: Draw, d: date, most: int) -> date:
    return d + timedelta(days=draw(st.integers(0, most)))


def _entree(draw: Draw, day: date, case: int) -> c.Commande:
    flux = _plus(draw, day, 3)
    return c.EnregistrerEntree(
        effective_on=day,
        numero_dossier=f"CAF-{case}",
        organisme_payeur=draw(st.sampled_from(OrganismePayeur)),
        date_flux=min(flux, LAST_DAY),
        date_reception_flux=min(_plus(draw, flux, 5), LAST_DAY),
    )


def _reouverture(draw: Draw, day: date) -> c.Commande:
    return c.RouvrirDroit(
        effective_on=day,
        date_flux=day,
        date_reception_flux=min(_plus(draw, day, 5), LAST_DAY),
    )


def _orientation(draw: Draw, day: date) -> c.Commande:
    return c.DeciderOrientation(
        effective_on=day,
        type_orientation=draw(st.sampled_from(TypeOrientation)),
        organisme=draw(st.sampled_from(TypeOrganisme)),
        structure_id=draw(st.sampled_from(STRUCTURES)),
        mode=draw(st.sampled_from(ModeOrientation)),
    )


def _reorientation(draw: Draw, day: date) -> c.Commande:
    return c.DeciderReorientation(
        effective_on=day,
        type_orientation=draw(st.sampled_from(TypeOrientation)),
        organisme=draw(st.sampled_from(TypeOrganisme)),
        structure_id=draw(st.sampled_from(STRUCTURES)),
        motif="changement de projet",
        date_avis_ep=draw(st.none() | st.just(day)),
    )


def _rdv(draw: Draw, day: date) -> c.Commande:
    return c.PlanifierRdv(
        effective_on=day,
        type_rdv=draw(st.sampled_from(TypeRdv)),
        mode=draw(st.sampled_from(ModeRdv)),
        date_rdv=_plus(draw, day, 21),
    )


def _issue(draw: Draw, day: date, state: Dossier) -> c.Commande:
    """Mostly an outcome for a pending RDV of this episode, dated when it can be recorded."""
    pending = sorted(
        n for n, r in state.rdvs.items() if r.episode == state.episode and r.issue is None
    )
    numero = draw(st.sampled_from(pending)) if pending else len(state.rdvs) + 1
    numero = draw(st.just(numero) | st.integers(1, len(state.rdvs) + 1))
    issue = draw(st.sampled_from(IssueRdv))
    rdv = state.rdvs.get(numero)
    on = day
    if rdv is not None:
        floor = rdv.date_rdv if issue in (IssueRdv.SEEN, IssueRdv.NOSHOW) else rdv.planifie_le
        on = max(day, floor)
    return c.EnregistrerIssueRdv(effective_on=on, numero=numero, issue=issue)


def _cer(draw: Draw, day: date, state: Dossier) -> c.Commande:
    duree = draw(st.sampled_from([6, 9, 12]))
    if state.cer is None or draw(st.integers(0, 9)) == 0:
        return c.SignerCer(effective_on=day, date_debut=_plus(draw, day, 15), duree_mois=duree)
    debut = max(state.cer.date_fin + timedelta(days=1), day)
    return c.RenouvelerCer(effective_on=day, date_debut=debut, duree_mois=duree)


def _lever(draw: Draw, day: date, state: Dossier) -> c.Commande:
    en_cours = sorted(state.sanctions_en_cours)
    numero = draw(st.sampled_from(en_cours)) if en_cours else state.nb_sanctions + 1
    return c.LeverSanction(effective_on=day, numero=draw(st.just(numero) | st.integers(1, 3)))


def _open_referral(state: Dossier) -> list[Saisine]:
    return [
        s
        for s in state.saisines.values()
        if s.episode == state.episode and s.close_le is None and s.motif is MotifSaisineEp.SANCTION
    ]


def _procedure(draw: Draw, day: date, state: Dossier) -> c.Commande:
    """The next step of the EP procedure a sanction needs, for the open sanction referral of
    the episode (a new referral when none is open); now and then a sanction without it."""
    if draw(st.integers(0, 9)) == 0:
        return c.DeciderSanction(
            effective_on=day,
            type_sanction=draw(st.sampled_from(TypeSanction)),
            motif="RDV manqués",
        )
    open_ = [
        s
        for s in state.saisines.values()
        if s.episode == state.episode and s.close_le is None and s.motif is MotifSaisineEp.SANCTION
    ]
    if not open_:
        return c.SaisirEp(
            effective_on=day,
            motif_saisine=MotifSaisineEp.SANCTION,
            ep_id="ep-1",
            manquement="RDV manqués",
        )
    saisine = open_[-1]
    if saisine.notifiee_le is None:
        return c.NotifierObservations(effective_on=day, saisine=saisine.numero)
    if saisine.date_session is None:
        session = _plus(draw, day, 30)
        return c.InscrireOrdreDuJour(
            effective_on=day,
            saisine=saisine.numero,
            session_id=f"ep-1-{session.isoformat()}",
            date_session=session,
        )
    late = saisine.date_limite is not None and day > saisine.date_limite
    if saisine.observations_le is None and saisine.avis is None and not late:
        return c.RecevoirObservations(effective_on=day, saisine=saisine.numero)
    if saisine.avis is None:
        return c.RendreAvisEp(
            effective_on=max(day, saisine.date_session),
            saisine=saisine.numero,
            avis=draw(st.sampled_from([AvisEp.SANCTION, AvisEp.PAS_DE_SANCTION])),
        )
    regime = _MODEL.regimes.en_vigueur(day)
    paliers = regime.premier if state.sanctions_episode() == 0 else regime.suivant
    kind = draw(st.sampled_from(sorted(paliers)))
    palier = paliers[kind]
    return c.DeciderSanction(
        effective_on=day,
        type_sanction=kind,
        motif="RDV manqués",
        saisine=saisine.numero,
        pourcentage=draw(st.integers(palier.pourcentage_min, palier.pourcentage_max)),
        duree_mois=draw(st.integers(palier.mois_min, palier.mois_max)),
        montant_mensuel_centimes=draw(st.integers(30_000, 90_000)),
        personnes_foyer=draw(st.integers(1, 4)),
    )


def _any(draw: Draw, day: date, state: Dossier, case: int) -> c.Commande:
    """One command, weighted towards the steps that make a path deep and those the case is
    ready for (an outcome when a RDV is pending, a lift when a sanction is in force)."""
    pending = any(r.issue is None and r.episode == state.episode for r in state.rdvs.values())
    kind = draw(
        st.sampled_from(
            ["orientation", "reorientation", "cloture", "sortie", "asc"]
            + ["sanction"] * (20 if _open_referral(state) else 1)
            + ["referent"] * 2
            + ["rdv"] * 4
            + ["issue"] * (6 if pending else 1)
            + ["cer"] * 3
            + ["lever"] * (4 if state.sanctions_en_cours else 1)
            + ["reprise"] * (4 if state.droit_suspendu else 1)
            + ["suspension", "entree", "reouverture"]
        )
    )
    if kind == "orientation":
        return _orientation(draw, day)
    if kind == "reorientation":
        return _reorientation(draw, day)
    if kind == "referent":
        return c.DesignerReferent(effective_on=day, referent_id=draw(st.sampled_from(REFERENTS)))
    if kind == "suspension":
        return c.SuspendreDroit(effective_on=day, motif=draw(st.none() | st.just("DTR")))
    if kind == "reprise":
        return c.ReprendreDroit(effective_on=day)
    if kind == "cloture":
        return c.CloreDroit(effective_on=day, motif=draw(st.sampled_from(MotifCloture)))
    if kind == "sortie":
        return c.EnregistrerSortie(effective_on=day, type_sortie=draw(st.sampled_from(TypeSortie)))
    if kind == "rdv":
        return _rdv(draw, day)
    if kind == "issue":
        return _issue(draw, day, state)
    if kind == "cer":
        return _cer(draw, day, state)
    if kind == "asc":
        return c.TenirEntretienAsc(effective_on=day, structure_id=draw(st.sampled_from(STRUCTURES)))
    if kind == "sanction":
        return _procedure(draw, day, state)
    if kind == "lever":
        return _lever(draw, day, state)
    if kind == "entree":
        return _entree(draw, day, case)
    return _reouverture(draw, day)


def _next(draw: Draw, day: date, state: Dossier, case: int) -> c.Commande:
    """What an agent most likely keys next for this case (one time in ten, anything)."""
    if draw(st.integers(0, 9)) == 0:
        return _any(draw, day, state, case)
    if not state.existe:
        return _entree(draw, day, case)
    if not state.episode_ouvert:
        return _reouverture(draw, day)
    if state.orientation is None and draw(st.booleans()):
        return _orientation(draw, day)
    return _any(draw, day, state, case)


@st.composite
def histories(draw: Draw, max_cases: int = 4, min_steps: int = 1, max_steps: int = 40) -> History:
    """Several cases' commands interleaved, every date between START and LAST_DAY."""
    cases = draw(st.integers(1, max_cases))
    states = [Dossier()] * cases
    versions = [0] * cases
    day = START
    steps: list[tuple[int, c.Commande]] = []
    for _ in range(draw(st.integers(min_steps, max_steps))):
        case = draw(st.integers(0, cases - 1))
        day = min(_plus(draw, day, 12), LAST_DAY)
        command = _next(draw, day, states[case], case)
        steps.append((case, command))
        try:
            events = decide(states[case], command, _MODEL)
        except DomainError:
            continue
        states[case] = fold(events, states[case])
        versions[case] += len(events)
    return History(cases=cases, steps=tuple(steps), versions=tuple(versions))


# --- the former flat strategy, still used by tests/integration/test_rebuild_property.py ------


def _command(kind: type[c.Commande], **fields: Any) -> st.SearchStrategy[c.Commande]:
    return st.builds(kind, effective_on=st.just(START), **fields)


def at(command: c.Commande, day: date) -> c.Commande:
    """The same command with every date moved by `day - START`."""
    shift = day - START
    moved = {
        name: value + shift
        for name in command.__struct_fields__
        if isinstance(value := getattr(command, name), date)
    }
    return msgspec.structs.replace(command, **moved)


_days = st.integers(min_value=0, max_value=30).map(lambda n: START + timedelta(days=n))
_structures = st.sampled_from(STRUCTURES)
_ALL: list[st.SearchStrategy[c.Commande]] = [
    _command(
        c.EnregistrerEntree,
        numero_dossier=st.just("CAF-1"),
        organisme_payeur=st.sampled_from(OrganismePayeur),
        date_flux=st.just(START),
        date_reception_flux=st.just(START),
    ),
    _command(c.RouvrirDroit, date_flux=_days, date_reception_flux=_days),
    _command(c.SuspendreDroit),
    _command(c.ReprendreDroit),
    _command(c.CloreDroit, motif=st.sampled_from(MotifCloture)),
    _command(
        c.DeciderOrientation,
        type_orientation=st.sampled_from(TypeOrientation),
        organisme=st.sampled_from(TypeOrganisme),
        structure_id=_structures,
    ),
    _command(
        c.DeciderReorientation,
        type_orientation=st.sampled_from(TypeOrientation),
        organisme=st.sampled_from(TypeOrganisme),
        structure_id=_structures,
        motif=st.just("réorientation"),
    ),
    _command(c.DesignerReferent, referent_id=st.sampled_from(["ref-1", "ref-2"])),
    _command(
        c.PlanifierRdv,
        type_rdv=st.sampled_from(TypeRdv),
        mode=st.sampled_from(ModeRdv),
        date_rdv=_days,
    ),
    _command(c.EnregistrerIssueRdv, numero=st.integers(1, 4), issue=st.sampled_from(IssueRdv)),
    _command(c.SignerCer, date_debut=_days, duree_mois=st.sampled_from([6, 9, 12])),
    _command(c.RenouvelerCer, date_debut=_days, duree_mois=st.sampled_from([6, 9, 12])),
    _command(c.TenirEntretienAsc, structure_id=_structures),
    _command(c.EnregistrerSortie, type_sortie=st.sampled_from(TypeSortie)),
    _command(
        c.DeciderSanction, type_sanction=st.sampled_from(TypeSanction), motif=st.just("manquement")
    ),
    _command(c.LeverSanction, numero=st.integers(1, 3)),
]
_WEIGHTS = [1, 1, 1, 1, 1, 4, 1, 2, 4, 4, 2, 2, 1, 1, 1, 1]
COMMANDS: st.SearchStrategy[c.Commande] = st.one_of(
    [strategy for strategy, weight in zip(_ALL, _WEIGHTS, strict=True) for _ in range(weight)]
)
# (case index, command, days since the previous step, catch up after it?)
STEPS = st.lists(
    st.tuples(st.integers(0, 3), COMMANDS, st.integers(0, 15), st.booleans()),
    min_size=5,
    max_size=60,
)
