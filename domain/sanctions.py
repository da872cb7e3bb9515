"""The sanction regimes as dated rules, and the person's sanction situation on any date.

A regime says which sanctions may be decided, within which shares and durations, for a first
and for a further breach, the household cap, whether re-engaging pays the suspended amounts
back, which contract the person signs and how long the person has to present observations. The
rules read the regime in force on the date of the decision (`Regimes.en_vigueur`); the
national ones are below, a département adds its own from TOML files (`adapters.rules`).

`situation` folds a case's events into what is in force on a date: pure, no clock, no rule set
(a decision carries its figures, so a later change of the rules never rewrites a past sanction).
"""

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import pairwise
from typing import Literal

import msgspec

from domain import events as ev
from domain.dates import add_months
from domain.delais import Delai, RulesError
from domain.vocabulary import TypeSanction

TypeContrat = Literal["cer", "contrat_engagement"]


class Palier(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The share of the allowance (percent) and the months a kind of sanction may take."""

    pourcentage_min: int
    pourcentage_max: int
    mois_min: int
    mois_max: int


class RegimeSanction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One dated regime: the sanctions, the contradictory procedure's delay and the contract."""

    nom: str
    libelle: str
    source: str
    du: date
    au: date | None = None
    contrat: TypeContrat = "cer"
    """Which contract a signature on a date of this regime records."""
    heures_min: int | None = None
    heures_max: int | None = None
    """Weekly hours of activity of a contrat d'engagement, unless legitimately prevented."""
    delai_observations: Delai = Delai(mois=1)
    """From the notification: how long the person has to present observations."""
    delai_inscription: Delai = Delai(mois=2)
    """Referral → the session that examines it (the worklist's "waiting for a session")."""
    delai_decision: Delai = Delai(mois=1)
    """EP opinion → the president's decision (the worklist's "waiting for a decision")."""
    premier: dict[TypeSanction, Palier]
    """The sanctions a first breach may take, and their bounds."""
    suivant: dict[TypeSanction, Palier]
    """The sanctions a further breach (a sanction already decided in the episode) may take."""
    plafond_foyer: int | None = None
    """Largest share (percent) for a household of more than one person."""
    remobilisation: bool = False
    """Whether re-engaging pays the suspended amounts back (otherwise nothing is repaid)."""
    remobilisation_apres_fin: Delai = Delai()
    """How long after a suspension ends re-engaging still pays it back."""
    procedure_ep: bool = True
    """Whether a sanction, or a réorientation from the professional to the social path, decided
    on a date of this regime needs the EP procedure (referral, the person's observations for a
    sanction, the EP's opinion). The law requires it in every national regime; a département
    may declare `false` for a period whose decisions were taken elsewhere and are taken over."""

    def couvre(self, jour: date) -> bool:
        return self.du <= jour and (self.au is None or jour <= self.au)

    def palier(self, rang: int, type_sanction: TypeSanction) -> Palier | None:
        return (self.premier if rang <= 1 else self.suivant).get(type_sanction)


SANS_MONTANT: frozenset[TypeSanction] = frozenset({TypeSanction.RADIATION})
"""Kinds without share nor duration: a removal ends the right, it suspends nothing."""

_TOUT = Palier(pourcentage_min=1, pourcentage_max=100, mois_min=1, mois_max=12)
_RADIATION = Palier(pourcentage_min=0, pourcentage_max=0, mois_min=0, mois_max=0)

NATIONAUX: tuple[RegimeSanction, ...] = (
    RegimeSanction(
        nom="sanctions-2018",
        libelle="Réduction puis suspension, sur décision du président après avis de l'EP",
        source="CASF L262-37 et R262-68 (rédaction antérieure à 2025)",
        du=date(2018, 1, 1),
        au=date(2024, 12, 31),
        delai_observations=Delai(mois=1),
        premier={TypeSanction.REDUCTION: _TOUT},
        suivant={
            TypeSanction.REDUCTION: _TOUT,
            TypeSanction.SUSPENSION: Palier(
                pourcentage_min=100, pourcentage_max=100, mois_min=1, mois_max=12
            ),
        },
    ),
    RegimeSanction(
        nom="engagement-2025",
        libelle="Contrat d'engagement; sanctions de l'ancien régime jusqu'au 31 mai 2025",
        source="Loi n° 2023-1196 du 18 décembre 2023 (plein emploi)",
        du=date(2025, 1, 1),
        au=date(2025, 5, 31),
        contrat="contrat_engagement",
        heures_min=15,
        heures_max=20,
        delai_observations=Delai(mois=1),
        premier={TypeSanction.REDUCTION: _TOUT},
        suivant={
            TypeSanction.REDUCTION: _TOUT,
            TypeSanction.SUSPENSION: Palier(
                pourcentage_min=100, pourcentage_max=100, mois_min=1, mois_max=12
            ),
        },
    ),
    RegimeSanction(
        nom="suspension-remobilisation-2025",
        libelle="Suspension-remobilisation: 30 à 100 % pendant 1 à 2 mois, puis 1 à 4 mois "
        "ou radiation; 50 % au plus pour un foyer de plusieurs personnes",
        source="Loi n° 2023-1196 du 18 décembre 2023; décret du 30 mai 2025 (en vigueur le "
        "1er juin 2025), tels que publiquement rapportés",
        du=date(2025, 6, 1),
        contrat="contrat_engagement",
        heures_min=15,
        heures_max=20,
        delai_observations=Delai(mois=1),
        premier={
            TypeSanction.SUSPENSION_REMOBILISATION: Palier(
                pourcentage_min=30, pourcentage_max=100, mois_min=1, mois_max=2
            )
        },
        suivant={
            TypeSanction.SUSPENSION_REMOBILISATION: Palier(
                pourcentage_min=30, pourcentage_max=100, mois_min=1, mois_max=4
            ),
            TypeSanction.RADIATION: _RADIATION,
        },
        plafond_foyer=50,
        remobilisation=True,
    ),
)
"""The national regimes; a regime's `du` is the date of the decision it governs."""


class Regimes:
    """Every regime, ordered by start date: which one holds on a date, or by name."""

    def __init__(self, regimes: Iterable[RegimeSanction]) -> None:
        ordered = sorted(regimes, key=lambda r: r.du)
        if not ordered:
            raise RulesError("Aucun régime de sanctions.", "regimes")
        for previous, current in pairwise(ordered):
            if previous.au is None or previous.au >= current.du:
                raise RulesError(
                    f"Les régimes {previous.nom} et {current.nom} se chevauchent.",
                    f"{current.nom}.du",
                )
        if len({r.nom for r in ordered}) != len(ordered):
            raise RulesError("Deux régimes de sanctions portent le même nom.", "nom")
        self.regimes: Sequence[RegimeSanction] = tuple(ordered)

    def en_vigueur(self, jour: date) -> RegimeSanction:
        """The regime in force on `jour` (before the first, the first one)."""
        chosen = self.regimes[0]
        for regime in self.regimes:
            if regime.du <= jour:
                chosen = regime
        return chosen

    def procedure_requise(self, jour: date) -> bool:
        """Whether a decision dated `jour` needs the EP procedure (the regime in force says)."""
        return self.en_vigueur(jour).procedure_ep

    def par_nom(self, nom: str) -> RegimeSanction:
        for regime in self.regimes:
            if regime.nom == nom:
                return regime
        raise KeyError(nom)


def avec_departement(regimes: Iterable[RegimeSanction]) -> Regimes:
    """The national regimes with a département's own: one of its regimes takes over from its
    `du` (a national regime it overlaps is cut the day before, or dropped if it starts later)."""
    own = sorted(regimes, key=lambda r: r.du)
    kept: list[RegimeSanction] = []
    for national in NATIONAUX:
        for regime in own:
            if national.du >= regime.du and (regime.au is None or national.du <= regime.au):
                break
            if national.du < regime.du and (national.au is None or national.au >= regime.du):
                national = msgspec.structs.replace(
                    national, au=date.fromordinal(regime.du.toordinal() - 1)
                )
        else:
            kept.append(national)
    return Regimes([*kept, *own])


REGIMES = Regimes(NATIONAUX)


# --- the situation on a date ----------------------------------------------------------------


class SanctionEnCours(msgspec.Struct, frozen=True, kw_only=True):
    """One sanction as it stands on the date asked: its terms and its amounts so far, in
    cents (a month's suspended amount is the share of the monthly allowance, rounded)."""

    numero: int
    type_sanction: TypeSanction
    regime: str | None
    decidee_le: date
    date_debut: date
    date_fin: date | None
    """Exclusive: the day the suspension stops, or the day it was lifted or re-engaged."""
    pourcentage: int | None
    duree_mois: int | None
    montant_mensuel_suspendu: int | None
    en_vigueur: bool
    mois_suspendus: int
    montant_suspendu: int
    remobilise_le: date | None
    montant_rembourse: int
    montant_perdu: int
    """Suspended and no longer repayable (the suspension ended without re-engagement)."""


class Situation(msgspec.Struct, frozen=True, kw_only=True):
    """What is in force on `jour`: the share of the allowance suspended, and every sanction."""

    jour: date
    pourcentage_suspendu: int
    radie: bool
    sanctions: list[SanctionEnCours]


class _Suivi(msgspec.Struct, kw_only=True):
    decision: ev.SanctionDecidee
    levee_le: date | None = None
    remobilise_le: date | None = None


def _mois_echus(debut: date, duree: int, jour: date, arret: date | None) -> int:
    """Monthly instalments suspended by `jour`: month k starts on `debut` + k months, counts
    once started on or before `jour` and before the suspension stopped."""
    n = 0
    for k in range(duree):
        start = add_months(debut, k)
        if start > jour or (arret is not None and start >= arret):
            break
        n += 1
    return n


def situation(events: Iterable[ev.Evenement], jour: date, regimes: Regimes = REGIMES) -> Situation:
    """The person's sanctions on `jour`, from the case's effective events (corrections applied
    by the caller). A sanction recorded without terms (before the EP procedure was kept here)
    shows with its kind only."""
    suivis: dict[int, _Suivi] = {}
    for e in events:
        if e.effective_on > jour:
            continue
        match e:
            case ev.SanctionDecidee():
                suivis[e.numero] = _Suivi(decision=e)
            case ev.SanctionLevee() if e.numero in suivis:
                suivis[e.numero].levee_le = e.effective_on
            case ev.RemobilisationConstatee() if e.numero in suivis:
                suivis[e.numero].remobilise_le = e.effective_on
            case _:
                pass
    out: list[SanctionEnCours] = []
    share, radie = 0, False
    for numero in sorted(suivis):
        s = suivis[numero]
        d = s.decision
        debut = d.date_debut or d.effective_on
        fin = add_months(debut, d.duree_mois) if d.duree_mois else None
        arrets = [x for x in (s.levee_le, s.remobilise_le, fin) if x is not None]
        arret = min(arrets) if arrets else None
        en_vigueur = debut <= jour and (arret is None or jour < arret)
        if d.type_sanction is TypeSanction.RADIATION and debut <= jour and s.levee_le is None:
            radie = True
        mensuel = None
        if d.pourcentage is not None and d.montant_mensuel_centimes is not None:
            mensuel = round(d.montant_mensuel_centimes * d.pourcentage / 100)
        mois = _mois_echus(debut, d.duree_mois or 0, jour, arret)
        suspendu = (mensuel or 0) * mois
        rembourse = suspendu if s.remobilise_le is not None else 0
        perdu = 0
        regime = _regime(d, regimes)
        if s.remobilise_le is None and arret is not None and arret <= jour:
            limite = arret
            if regime is not None and regime.remobilisation and s.levee_le is None:
                limite = regime.remobilisation_apres_fin.echeance(arret)
            if jour >= limite:
                perdu = suspendu
        if en_vigueur and d.pourcentage is not None:
            share += d.pourcentage
        out.append(
            SanctionEnCours(
                numero=numero,
                type_sanction=d.type_sanction,
                regime=d.regime,
                decidee_le=d.effective_on,
                date_debut=debut,
                date_fin=arret,
                pourcentage=d.pourcentage,
                duree_mois=d.duree_mois,
                montant_mensuel_suspendu=mensuel,
                en_vigueur=en_vigueur,
                mois_suspendus=mois,
                montant_suspendu=suspendu,
                remobilise_le=s.remobilise_le,
                montant_rembourse=rembourse,
                montant_perdu=perdu,
            )
        )
    return Situation(jour=jour, pourcentage_suspendu=min(share, 100), radie=radie, sanctions=out)


def _regime(d: ev.SanctionDecidee, regimes: Regimes) -> RegimeSanction | None:
    if d.regime is None:
        return None
    try:
        return regimes.par_nom(d.regime)
    except KeyError:
        return None
