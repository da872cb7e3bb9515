"""The EP procedure a sanction needs, as commands: the rules refuse a sanction without it, so a
test that needs a sanction in a case's history records these steps first."""

from datetime import date, timedelta

from domain import commands as c
from domain.vocabulary import AvisEp, MotifSaisineEp, TypeSanction


def procedure(saisine: int, day: date, ep_id: str = "ep-1") -> tuple[c.Commande, ...]:
    """Referral number `saisine` on `day`: the person notified the same day (a month to
    answer), the case on the agenda of the session three weeks later, observations a week
    after the notice, the EP's opinion (a sanction) at the session."""
    session = day + timedelta(days=21)
    return (
        c.SaisirEp(
            effective_on=day,
            motif_saisine=MotifSaisineEp.SANCTION,
            ep_id=ep_id,
            manquement="RDV manqués",
        ),
        c.NotifierObservations(effective_on=day, saisine=saisine),
        c.InscrireOrdreDuJour(
            effective_on=day,
            saisine=saisine,
            session_id=f"{ep_id}-{session.isoformat()}",
            date_session=session,
        ),
        c.RecevoirObservations(effective_on=day + timedelta(days=7), saisine=saisine),
        c.RendreAvisEp(effective_on=session, saisine=saisine, avis=AvisEp.SANCTION),
    )


def reduction(saisine: int, day: date, motif: str = "RDV manqués") -> c.DeciderSanction:
    """A reduction of half the allowance for two months (the regime before June 2025), decided
    on `day` after referral `saisine` (its opinion given on or before `day`)."""
    return c.DeciderSanction(
        effective_on=day,
        type_sanction=TypeSanction.REDUCTION,
        motif=motif,
        saisine=saisine,
        pourcentage=50,
        duree_mois=2,
        montant_mensuel_centimes=60000,
        personnes_foyer=1,
    )


def sanctionner(saisine: int, referred: date, decided: date) -> tuple[c.Commande, ...]:
    """The procedure from `referred`, then a reduction decided on `decided` (at least three
    weeks later)."""
    return (*procedure(saisine, referred), reduction(saisine, decided))
