"""Partners' subscriptions to parcours' events: subscribe (the secret generated here and shown
once, or given), unsubscribe, list, and where each one's deliveries stand.

Subscriptions are events on the département's register (`domain.abonnements`), written through
the one write path: who subscribed a partner to what, when and why is in the log like every
right granted. The secret goes into the log sealed (`adapters.webhooks.signing.Sealer`)."""

import time
from datetime import datetime

import msgspec

from adapters.eventlog.reading import IllegibleEvent, read_batch
from adapters.eventlog.store import Parcours
from adapters.webhooks.signing import InvalidSecret, Sealer, new_secret, secret_key
from adapters.webhooks.state import DeadLetter, DeliveryState
from api.services.commands import Author, execute, refused
from domain.abonnements import (
    ABONNEMENTS_ID,
    POSITION_MAX,
    Abonnement,
    Abonnements,
    Finalite,
    abonner,
    desabonner,
    prochain_id,
)
from domain.decide import Contexte
from domain.errors import DomainError
from domain.events import Evenement, Recorded

SHOWN_DEAD = 100
"""Dead letters listed by a status (all are counted)."""


class Souscription(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription as shown: everything but its secret."""

    abonnement_id: str
    url: str
    types: list[str]
    structures: list[str] | None
    """None: every structure's cases."""
    finalite: Finalite
    position_depart: int
    motif: str
    cree_par: str
    cree_le: datetime
    supprime_par: str | None = None
    supprime_le: datetime | None = None


class Creee(msgspec.Struct, frozen=True, kw_only=True):
    abonnement: Souscription
    secret: str
    """The signing secret in clear, shown this once (parcours keeps it sealed)."""


class Etat(msgspec.Struct, frozen=True, kw_only=True):
    """Where a subscription's deliveries stand."""

    abonnement_id: str
    actif: bool
    position: int
    """Every event up to this log position was delivered or set aside."""
    position_journal: int
    retard_evenements: int
    """Events of the log after the position (of any kind: not all are for this partner)."""
    retard_secondes: float
    """Since the recording of the first event after the position (0 when caught up)."""
    livrees: int
    echecs: int
    """Tries that failed (each retry counts)."""
    derniere_erreur: str | None
    derniere_livraison: datetime | None
    rebuts: int
    """Deliveries given up after the last try (dead letters)."""
    rebuts_premiers: list[DeadLetter]


def shown(a: Abonnement) -> Souscription:
    return Souscription(
        abonnement_id=a.abonnement_id,
        url=a.url,
        types=a.types,
        structures=a.structures,
        finalite=a.finalite,
        position_depart=a.position_depart,
        motif=a.motif,
        cree_par=a.cree_par,
        cree_le=a.cree_le,
        supprime_par=None if a.suppression is None else a.suppression.par,
        supprime_le=None if a.suppression is None else a.suppression.le,
    )


def _register(history: list[Recorded]) -> Abonnements:
    return Abonnements(r.event for r in history)


def register(app: Parcours) -> Abonnements:
    return _register(app.history(ABONNEMENTS_ID))


def subscribe(
    app: Parcours,
    *,
    url: str,
    types: list[str],
    structures: list[str] | None,
    finalite: Finalite,
    motif: str,
    author: Author,
    secret: str | None = None,
    position_depart: int | None = None,
) -> Creee:
    """Record the subscription (from the end of the log unless a position is given); its
    secret in clear, this once."""
    if secret is None:
        secret = new_secret()
    else:
        try:
            secret_key(secret)
        except InvalidSecret as e:
            raise DomainError("secret_invalide", f"Secret: {e}.", field="secret") from e
    start = app.max_position() if position_depart is None else position_depart
    sealer = Sealer(app.settings)

    def decide(history: list[Recorded], ctx: Contexte) -> list[Evenement]:
        state = _register(history)
        return [
            abonner(
                state,
                url=url,
                secret_scelle=sealer.seal(secret, prochain_id(state)),
                types=types,
                structures=structures,
                finalite=finalite,
                position_depart=start,
                motif=motif,
                meta=ctx.meta,
                today=ctx.today,
            )
        ]

    appended = execute(
        app,
        ABONNEMENTS_ID,
        decide,
        author,
        lost_race=refused("registre_concurrent", "Abonnements modifiés en même temps.", "url"),
    )
    created = appended.recorded[0].event
    found = register(app).get(getattr(created, "abonnement_id", ""))
    assert found is not None
    return Creee(abonnement=shown(found), secret=secret)


def unsubscribe(app: Parcours, abonnement_id: str, motif: str, author: Author) -> Souscription:
    def decide(history: list[Recorded], ctx: Contexte) -> list[Evenement]:
        return [
            desabonner(
                _register(history),
                abonnement_id=abonnement_id,
                motif=motif,
                meta=ctx.meta,
                today=ctx.today,
            )
        ]

    execute(
        app,
        ABONNEMENTS_ID,
        decide,
        author,
        lost_race=refused(
            "registre_concurrent", "Abonnements modifiés en même temps.", "abonnement_id"
        ),
    )
    found = register(app).get(abonnement_id)
    assert found is not None
    return shown(found)


def find(app: Parcours, abonnement_id: str) -> Abonnement:
    found = register(app).get(abonnement_id)
    if found is None:
        raise DomainError(
            "abonnement_inconnu", f"Aucun abonnement {abonnement_id[:80]!r}.", "abonnement_id"
        )
    return found


def status(app: Parcours, abonnement_id: str, state: DeliveryState | None = None) -> Etat:
    """Position, lag (events and seconds), failures and dead letters of one subscription."""
    subscription = find(app, abonnement_id)
    state = state or DeliveryState(app.settings)
    cursor = state.cursor(abonnement_id)
    position = subscription.position_depart if cursor is None else cursor.position
    log_position = app.max_position()
    lag_seconds = 0.0
    if log_position > position:
        try:
            following = read_batch(app, position, 1)
        except IllegibleEvent:
            following = []
        if following:
            recorded = following[0].event.meta.recorded_at
            lag_seconds = max(0.0, time.time() - recorded.timestamp())
    dead_total, dead = state.dead_letters(abonnement_id, SHOWN_DEAD)
    return Etat(
        abonnement_id=abonnement_id,
        actif=subscription.actif,
        position=position,
        position_journal=log_position,
        retard_evenements=max(0, log_position - position),
        retard_secondes=round(lag_seconds, 3),
        livrees=0 if cursor is None else cursor.livrees,
        echecs=0 if cursor is None else cursor.echecs,
        derniere_erreur=None if cursor is None else cursor.derniere_erreur,
        derniere_livraison=None if cursor is None else cursor.derniere_livraison,
        rebuts=dead_total,
        rebuts_premiers=dead,
    )


def replay(app: Parcours, abonnement_id: str, position: int) -> None:
    """Deliver again every event recorded after `position` (same webhook ids)."""
    find(app, abonnement_id)
    if not 0 <= position <= POSITION_MAX:
        raise DomainError("position_invalide", f"Position: de 0 à {POSITION_MAX}.", "position")
    DeliveryState(app.settings).replay(abonnement_id, position)
