"""A synthetic département: realistic paths for N people over Y years, reproducible from a seed.

Every event comes out of the domain's own `decide`, so each history is valid by construction.
Delays are drawn around the published figures (DOMAIN.md): about 120 days from entry to
orientation on average with a quarter oriented within a month, about 76 days from orientation to
contract, first RDV within two weeks for a share of people, orientations split 40 % France
Travail, 32 % département services, 28 % others.
"""

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar

from adapters.eventlog.store import Parcours
from domain.commands import (
    ClasserSaisine,
    CloreDroit,
    Commande,
    DeciderOrientation,
    DeciderReorientation,
    DeciderSanction,
    DesignerReferent,
    EnregistrerEntree,
    EnregistrerIssueRdv,
    EnregistrerSortie,
    InscrireOrdreDuJour,
    LeverSanction,
    NotifierObservations,
    PlanifierRdv,
    RecevoirObservations,
    RendreAvisEp,
    RenouvelerCer,
    ReprendreDroit,
    RouvrirDroit,
    SaisirEp,
    SignerCer,
    SuspendreDroit,
    TenirEntretienAsc,
)
from domain.dates import add_months
from domain.decide import Contexte, decide
from domain.dossier import Dossier, evolve
from domain.errors import DomainError
from domain.events import Meta, Profil, Recorded
from domain.sanctions import REGIMES, SANS_MONTANT
from domain.vocabulary import (
    AvisEp,
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    MotifSaisineEp,
    OrganismePayeur,
    Sexe,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSortie,
)

ORIENTATIONS: list["Orientation"] = [
    (0.40, TypeOrientation.PROFESSIONNELLE, TypeOrganisme.FRANCE_TRAVAIL, "ft", 8),
    (0.32, TypeOrientation.SOCIALE, TypeOrganisme.DEPARTEMENT, "mds", 10),
    (0.10, TypeOrientation.SOCIALE, TypeOrganisme.CCAS, "ccas", 12),
    (0.08, TypeOrientation.SOCIO_PROFESSIONNELLE, TypeOrganisme.ASSOCIATION, "asso", 8),
    (0.10, TypeOrientation.SOCIO_PROFESSIONNELLE, TypeOrganisme.AAVE, "aave", 6),
]
SORTIES = [
    (TypeSortie.EMPLOI_CDI, 0.18),
    (TypeSortie.EMPLOI_CDD_PLUS_6_MOIS, 0.15),
    (TypeSortie.FORMATION_QUALIFIANTE, 0.10),
    (TypeSortie.CREATION_ENTREPRISE, 0.05),
    (TypeSortie.RETRAITE, 0.04),
    (TypeSortie.AAH, 0.04),
    (TypeSortie.DEMENAGEMENT, 0.14),
    (TypeSortie.FIN_DE_DROITS, 0.20),
    (TypeSortie.RADIATION, 0.05),
    (TypeSortie.AUTRE, 0.05),
]
ISSUES = [
    (IssueRdv.SEEN, 0.65),
    (IssueRdv.NOSHOW, 0.2),
    (IssueRdv.EXCUSED, 0.1),
    (IssueRdv.REVOKED, 0.05),
]


COMMUNES = [f"94{n:03d}" for n in (2, 3, 4, 11, 15, 16, 17, 18, 19, 21, 22, 28, 33, 34, 37)]
"""Fictitious residence communes (INSEE codes of one département's shape)."""

T = TypeVar("T")
Durations: tuple[Literal[6, 9, 12], ...] = (6, 6, 9, 12)
Orientation = tuple[float, TypeOrientation, TypeOrganisme, str, int]


def _pick(rng: random.Random, weighted: list[tuple[T, float]]) -> T:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


EP_ID = "ep-1"
"""The équipe pluridisciplinaire the synthetic cases are referred to (sanctions, and
réorientations from the professional to the social path)."""

BIG_STRUCTURE = "mds-1"
"""The département service that `generate(big_share=…)` gives a large caseload."""


def _orientation_drawn(
    rng: random.Random, big_share: float = 0.0
) -> tuple[TypeOrientation, TypeOrganisme, str]:
    """A kind, its organism and a structure, in the published shares; with `big_share`, that
    share of the orientations first goes to `BIG_STRUCTURE` (no extra draw without it, so a
    seed gives the same département as before)."""
    if big_share and rng.random() < big_share:
        return TypeOrientation.SOCIALE, TypeOrganisme.DEPARTEMENT, BIG_STRUCTURE
    _, kind, organisme, prefix, count = rng.choices(ORIENTATIONS, [o[0] for o in ORIENTATIONS])[0]
    return kind, organisme, f"{prefix}-{rng.randrange(1, count + 1)}"


class _Person:
    """Draws one person's path and runs it through the domain."""

    def __init__(
        self, rng: random.Random, seed: int, index: int, today: date, big_share: float = 0.0
    ) -> None:
        self.rng = rng
        self.big_share = big_share
        self.today = today
        self.case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        self.state = Dossier()
        self.events: list[Recorded] = []
        self.recorded_at = datetime.min.replace(tzinfo=UTC)
        self.prefix = f"gen-{seed}-{index}"
        self.agent = f"agent-{rng.randrange(1, 400)}"
        self.structure: str | None = None

    def step(self, command: Commande) -> bool:
        """Record `command` if the rules accept it and it is not after today."""
        if command.effective_on > self.today:
            return False
        keyed = command.effective_on + timedelta(days=self.rng.choice((0, 0, 0, 1, 2, 5, 12, 20)))
        moment = datetime.combine(min(keyed, self.today), time(8), UTC) + timedelta(
            seconds=self.rng.randrange(10 * 3600)
        )
        self.recorded_at = max(self.recorded_at + timedelta(seconds=1), moment)
        meta = Meta(
            recorded_at=self.recorded_at,
            recorded_by=self.agent,
            structure_id=self.structure,
            request_id=f"{self.prefix}-{len(self.events) + 1}",
        )
        try:
            events = decide(self.state, command, Contexte(today=self.today, meta=meta))
        except DomainError:
            return False
        for event in events:
            self.state = evolve(self.state, event)
            self.events.append(Recorded(self.case_id, len(self.events) + 1, event))
        return True

    def episode(self, entered: date, first: bool) -> date | None:
        """One episode from entry to its end; returns the closure date if the right closed."""
        rng = self.rng
        flux = entered + timedelta(days=rng.randrange(0, 4))
        received = flux + timedelta(days=rng.randrange(0, 10))
        if first:
            payeur = OrganismePayeur.MSA if rng.random() < 0.05 else OrganismePayeur.CAF
            ok = self.step(
                EnregistrerEntree(
                    effective_on=entered,
                    numero_dossier=f"{payeur.value.upper()}-{rng.randrange(10**7):07d}",
                    organisme_payeur=payeur,
                    date_flux=flux,
                    date_reception_flux=received,
                    profil=Profil(
                        sexe=Sexe.F if rng.random() < 0.52 else Sexe.M,
                        annee_naissance=entered.year - rng.randint(25, 64),
                        code_commune=rng.choice(COMMUNES),
                    ),
                )
            )
        else:
            ok = self.step(
                RouvrirDroit(effective_on=entered, date_flux=flux, date_reception_flux=received)
            )
        if not ok:
            return None
        day = entered
        if rng.random() < 0.92:
            delay = (
                rng.randint(3, 30) if rng.random() < 0.25 else int(rng.expovariate(1 / 150)) + 31
            )
            day = self._orientation(entered + timedelta(days=delay))
        if rng.random() < 0.10:
            suspended = entered + timedelta(days=rng.randrange(20, 300))
            if self.step(SuspendreDroit(effective_on=suspended)) and rng.random() < 0.7:
                self.step(
                    ReprendreDroit(effective_on=suspended + timedelta(days=rng.randrange(20, 90)))
                )
        end = max(day, entered) + timedelta(days=int(rng.expovariate(1 / 400)) + 30)
        if rng.random() < 0.35:
            kind = _pick(rng, SORTIES)
            self.step(EnregistrerSortie(effective_on=end, type_sortie=kind))
        if rng.random() < 0.35:
            closed = end + timedelta(days=rng.randrange(0, 60))
            if self.step(CloreDroit(effective_on=closed, motif=rng.choice(list(MotifCloture)))):
                return closed
        return None

    def _orientation(self, day: date) -> date:
        rng = self.rng
        kind, organisme, structure = _orientation_drawn(rng, self.big_share)
        if not self.step(
            DeciderOrientation(
                effective_on=day,
                type_orientation=kind,
                organisme=organisme,
                structure_id=structure,
                mode=rng.choice(list(ModeOrientation)),
            )
        ):
            return day
        self.structure = structure
        if rng.random() < 0.85:
            self.step(
                DesignerReferent(
                    effective_on=day + timedelta(days=rng.randrange(0, 25)),
                    referent_id=f"ref-{structure}-{rng.randrange(1, 9)}",
                )
            )
        professional = organisme is TypeOrganisme.FRANCE_TRAVAIL
        if not professional:
            self._rdvs(day)
        if not professional and rng.random() < 0.75:
            self._cer(day)
        if professional and rng.random() < 0.2:
            for n in range(rng.randint(1, 6)):
                self.step(
                    TenirEntretienAsc(
                        effective_on=day + timedelta(days=30 * (n + 1) + rng.randrange(10)),
                        structure_id=f"ccas-{rng.randrange(1, 13)}",
                    )
                )
        if rng.random() < 0.07:
            self._reorientation(day + timedelta(days=rng.randrange(30, 200)))
        if rng.random() < 0.04:
            referred = day + timedelta(days=rng.randrange(30, 240))
            sanctioned = self._sanction(referred)
            if sanctioned is not None and rng.random() < 0.5:
                self.step(
                    LeverSanction(
                        effective_on=sanctioned + timedelta(days=rng.randrange(15, 120)),
                        numero=self.state.nb_sanctions,
                    )
                )
        return day

    def _saisine(self, day: date, motif: MotifSaisineEp, avis: AvisEp) -> tuple[int, date] | None:
        """Refer the case to the EP on `day` and go through the procedure to its opinion:
        returns the referral's number and the session's date, or None if a step was refused
        (or would fall after today)."""
        rng = self.rng
        numero = len(self.state.saisines) + 1
        session = day + timedelta(days=rng.randrange(14, 50))
        ok = self.step(
            SaisirEp(
                effective_on=day,
                motif_saisine=motif,
                ep_id=EP_ID,
                manquement="manquement aux obligations"
                if motif is MotifSaisineEp.SANCTION
                else "freins sociaux à l'emploi",
            )
        ) and self.step(
            InscrireOrdreDuJour(
                effective_on=day,
                saisine=numero,
                session_id=f"{EP_ID}-{session.isoformat()}",
                date_session=session,
            )
        )
        if ok and motif is MotifSaisineEp.SANCTION:
            ok = self.step(NotifierObservations(effective_on=day, saisine=numero))
            if ok and rng.random() < 0.4:
                answered = day + timedelta(days=rng.randrange(1, 14))
                ok = self.step(
                    RecevoirObservations(
                        effective_on=answered,
                        saisine=numero,
                        audition_demandee=rng.random() < 0.3,
                    )
                )
            session = max(session, add_months(day, 1) + timedelta(days=1))
        if not ok:
            return None
        if not self.step(RendreAvisEp(effective_on=session, saisine=numero, avis=avis)):
            return None
        return numero, session

    def _sanction(self, referred: date) -> date | None:
        """The EP procedure from `referred`, then the sanction the regime in force admits on
        the decision's day, with its terms; None if none was decided."""
        rng = self.rng
        followed = rng.random() < 0.85
        avis = AvisEp.SANCTION if followed else AvisEp.PAS_DE_SANCTION
        referral = self._saisine(referred, MotifSaisineEp.SANCTION, avis)
        if referral is None:
            return None
        numero, session = referral
        decided = session + timedelta(days=rng.randrange(1, 25))
        if not followed:
            self.step(ClasserSaisine(effective_on=decided, saisine=numero, motif="avis suivi"))
            return None
        regime = REGIMES.en_vigueur(decided)
        paliers = regime.premier if self.state.sanctions_episode() == 0 else regime.suivant
        kind = rng.choice(sorted(paliers))
        palier = paliers[kind]
        pourcentage = duree = montant = foyer = None
        if kind not in SANS_MONTANT:
            foyer = rng.choice((1, 1, 2, 3))
            plus_haut = palier.pourcentage_max
            if foyer > 1 and regime.plafond_foyer is not None:
                plus_haut = min(plus_haut, regime.plafond_foyer)
            pourcentage = rng.randint(palier.pourcentage_min, plus_haut)
            duree = rng.randint(palier.mois_min, palier.mois_max)
            montant = rng.randrange(40_000, 90_000)
        if self.step(
            DeciderSanction(
                effective_on=decided,
                type_sanction=kind,
                motif="manquement aux obligations",
                saisine=numero,
                pourcentage=pourcentage,
                duree_mois=duree,
                montant_mensuel_centimes=montant,
                personnes_foyer=foyer,
            )
        ):
            return decided
        return None

    def _rdvs(self, oriented: date) -> None:
        rng = self.rng
        first = rng.randint(2, 14) if rng.random() < 0.3 else int(rng.expovariate(1 / 30)) + 15
        planned = oriented + timedelta(days=rng.randrange(0, 3))
        when = oriented + timedelta(days=first)
        for n in range(rng.randint(1, 7)):
            kind = TypeRdv.PREMIER_ACCOMPAGNEMENT if n == 0 else TypeRdv.SUIVI
            if not self.step(
                PlanifierRdv(
                    effective_on=planned,
                    type_rdv=kind,
                    mode=rng.choice(list(ModeRdv)),
                    date_rdv=max(when, planned),
                )
            ):
                return
            issue = _pick(rng, ISSUES)
            self.step(
                EnregistrerIssueRdv(
                    effective_on=max(when, planned) + timedelta(days=rng.randrange(0, 3)),
                    numero=len(self.state.rdvs),
                    issue=issue,
                )
            )
            planned = max(when, planned) + timedelta(days=rng.randrange(0, 5))
            when = planned + timedelta(days=rng.randrange(25, 70))

    def _cer(self, oriented: date) -> None:
        rng = self.rng
        signed = oriented + timedelta(days=int(rng.expovariate(1 / 76)) + 1)
        duration = rng.choice(Durations)
        if not self.step(SignerCer(effective_on=signed, date_debut=signed, duree_mois=duration)):
            return
        start = signed
        while rng.random() < 0.5:
            start = start + timedelta(days=30 * duration)
            duration = rng.choice(Durations[1:])
            if not self.step(
                RenouvelerCer(
                    effective_on=start - timedelta(days=rng.randrange(0, 20)),
                    date_debut=start,
                    duree_mois=duration,
                )
            ):
                return

    def _reorientation(self, day: date) -> None:
        """A réorientation; from the professional to the social path, after the EP's opinion
        (referred a month or two before)."""
        rng = self.rng
        kind, organisme, structure = _orientation_drawn(rng, self.big_share)
        current = self.state.orientation
        saisine: int | None = None
        if (
            current is not None
            and current.type_orientation is TypeOrientation.PROFESSIONNELLE
            and kind is TypeOrientation.SOCIALE
        ):
            referred = day - timedelta(days=rng.randrange(50, 70))
            if referred < current.date_orientation:
                return
            referral = self._saisine(
                referred, MotifSaisineEp.REORIENTATION_SOCIALE, AvisEp.REORIENTATION
            )
            if referral is None:
                return
            saisine, session = referral
            day = max(day, session)
        if self.step(
            DeciderReorientation(
                effective_on=day,
                type_orientation=kind,
                organisme=organisme,
                structure_id=structure,
                motif="évolution de la situation",
                date_avis_ep=day - timedelta(days=rng.randrange(0, 10))
                if saisine is None
                else None,
                saisine=saisine,
            )
        ):
            self.structure = structure


def generate(
    people: int,
    years: int,
    seed: int,
    start: date,
    today: date | None = None,
    big_share: float = 0.0,
) -> Iterator[list[Recorded]]:
    """Each person's recorded events, in order; the same seed gives the same département.
    `big_share`: the share of orientations to `BIG_STRUCTURE` on top of its usual draw (one
    structure with a large caseload, as a screen's worst case)."""
    rng = random.Random(seed)
    last = min(start + timedelta(days=365 * years), today or date.today())
    span = max((last - start).days - 30, 1)
    for index in range(people):
        person = _Person(rng, seed, index, last, big_share)
        entered = start + timedelta(days=rng.randrange(span))
        closed = person.episode(entered, first=True)
        if closed is not None and rng.random() < 0.2:
            person.episode(closed + timedelta(days=rng.randrange(30, 400)), first=False)
        if person.events:
            yield person.events


def load(
    app: Parcours,
    people: int,
    years: int,
    seed: int,
    start: date,
    batch_events: int = 5000,
    progress: bool = False,
) -> int:
    """Write the synthetic département through the event store, one transaction per batch."""
    from tqdm import tqdm  # type: ignore[import-untyped]

    written = 0
    batch: list[Recorded] = []
    bar = tqdm(total=people, unit=" personnes", disable=not progress)
    for events in generate(people, years, seed, start):
        batch.extend(events)
        bar.update(1)
        if len(batch) >= batch_events:
            app.append_many(batch)
            written += len(batch)
            batch = []
    if batch:
        app.append_many(batch)
        written += len(batch)
    bar.close()
    return written
