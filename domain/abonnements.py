"""Partners' subscriptions to parcours' events (webhooks): who receives which kinds of case
events, of which structures' cases, at which URL, for which purpose.

Subscribing (`AbonnementCree`) and unsubscribing (`AbonnementSupprime`) are events on one
aggregate for the département, like the registry of rights: who subscribed a partner to what,
when and why stays in the log. The secret is stored sealed (the service seals it before the
rule sees it): the log's readers never see it in clear.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from urllib.parse import urlsplit

import msgspec

from domain.bounds import verifier_champs, verifier_texte
from domain.errors import DomainError
from domain.events import EVENT_TYPES, Evenement, Meta

ABONNEMENTS_ID = uuid.uuid5(uuid.UUID("5b0e7c2a-94d1-4f3e-8a6b-2c7d1e9f0a43"), "abonnements")
"""The département's one register of subscriptions."""

URL_MAX = 2000
POSITION_MAX = 2**62
"""Beyond any log position (a 64-bit column on both stores)."""
TYPES_DIFFUSABLES: frozenset[str] = frozenset(kind.__name__ for kind in EVENT_TYPES)
"""The kinds of event a partner may subscribe to: the case events (never the registry of
rights, the tariff book or the subscriptions themselves)."""


class Finalite(StrEnum):
    """Why a partner receives events: what its payloads may carry."""

    SUIVI = "suivi"
    """Follow-up of the cases: case ids and event data, no identifying data."""
    IDENTIFICATION = "identification"
    """The partner identifies the persons (a CAF/MSA file number, the recording agent)."""


class AbonnementCree(Evenement, frozen=True, kw_only=True):
    """`url` receives the case events of `types` of the cases `structures` accompany (None:
    every case), from log position `position_depart` on, signed with the sealed secret."""

    abonnement_id: str
    url: str
    secret_scelle: str
    types: list[str]
    structures: list[str] | None
    finalite: Finalite = Finalite.SUIVI
    position_depart: int
    motif: str


class AbonnementSupprime(Evenement, frozen=True, kw_only=True):
    """The subscription `abonnement_id` ends: nothing more is sent to it."""

    abonnement_id: str
    motif: str


class Suppression(msgspec.Struct, frozen=True, kw_only=True):
    par: str
    le: datetime
    motif: str


class Abonnement(msgspec.Struct, frozen=True, kw_only=True):
    """One subscription as recorded, with who recorded it and when (never its secret in
    clear)."""

    abonnement_id: str
    url: str
    secret_scelle: str
    types: list[str]
    structures: list[str] | None
    finalite: Finalite
    position_depart: int
    motif: str
    cree_par: str
    cree_le: datetime
    suppression: Suppression | None = None

    @property
    def actif(self) -> bool:
        return self.suppression is None


class Abonnements:
    """Every subscription, in creation order, folded from the register's events."""

    def __init__(self, events: Iterable[Evenement] = ()) -> None:
        self._abonnements: dict[str, Abonnement] = {}
        for event in events:
            self.evolve(event)

    def evolve(self, event: Evenement) -> None:
        """Partial fold: the register's two event types; any other leaves it as it is."""
        match event:
            case AbonnementCree():
                self._abonnements[event.abonnement_id] = Abonnement(
                    abonnement_id=event.abonnement_id,
                    url=event.url,
                    secret_scelle=event.secret_scelle,
                    types=event.types,
                    structures=event.structures,
                    finalite=event.finalite,
                    position_depart=event.position_depart,
                    motif=event.motif,
                    cree_par=event.meta.recorded_by,
                    cree_le=event.meta.recorded_at,
                )
            case AbonnementSupprime() if event.abonnement_id in self._abonnements:
                self._abonnements[event.abonnement_id] = msgspec.structs.replace(
                    self._abonnements[event.abonnement_id],
                    suppression=Suppression(
                        par=event.meta.recorded_by, le=event.meta.recorded_at, motif=event.motif
                    ),
                )
            case _:
                pass

    def all(self) -> list[Abonnement]:
        return list(self._abonnements.values())

    def actifs(self) -> list[Abonnement]:
        return [a for a in self._abonnements.values() if a.actif]

    def get(self, abonnement_id: str) -> Abonnement | None:
        return self._abonnements.get(abonnement_id)


# --- the rules ------------------------------------------------------------------------------


def prochain_id(registre: Abonnements) -> str:
    """The id the next subscription gets (its secret is sealed under it)."""
    return f"abonnement-{len(registre.all()) + 1}"


def _url_valide(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return (
            len(url) <= URL_MAX
            and parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and url.isprintable()
            and not any(c.isspace() for c in url)
        )
    except ValueError:  # a malformed authority ("http://[")
        return False


def _verifier_url(url: str) -> None:
    if not _url_valide(url):
        raise DomainError(
            "url_invalide",
            f"URL: une adresse http(s) complète, {URL_MAX} caractères au plus.",
            field="url",
        )


def abonner(
    registre: Abonnements,
    *,
    url: str,
    secret_scelle: str,
    types: list[str],
    structures: list[str] | None,
    finalite: Finalite,
    position_depart: int,
    motif: str,
    meta: Meta,
    today: date,
) -> AbonnementCree:
    """Subscribe a partner, refused (naming the field) when nothing could be sent: a URL that
    is not one, no kind of event or an unknown one, an empty list of structures (None is the
    explicit "every structure")."""
    _verifier_url(url)
    verifier_texte(motif, "motif")
    if not motif.strip():
        raise DomainError("motif_requis", "Motif: pourquoi ce partenaire reçoit.", field="motif")
    if not types:
        raise DomainError("types_requis", "Types: au moins un type d'événement.", field="types")
    for i, kind in enumerate(types):
        if kind not in TYPES_DIFFUSABLES:
            raise DomainError(
                "type_inconnu",
                f"types[{i}]: {kind[:80]!r} n'est pas un événement de dossier diffusable.",
                field=f"types[{i}]",
            )
    if structures is not None:
        if not structures:
            raise DomainError(
                "structures_requises",
                "Structures: au moins une (ou toutes_structures).",
                field="structures",
            )
        for i, structure in enumerate(structures):
            verifier_texte(structure, f"structures[{i}]", "structure_id")
        verifier_champs(today, structures=structures)
    if not 0 <= position_depart <= POSITION_MAX:
        raise DomainError(
            "position_invalide",
            f"Position de départ: de 0 à {POSITION_MAX}.",
            field="position_depart",
        )
    return AbonnementCree(
        effective_on=today,
        meta=meta,
        abonnement_id=prochain_id(registre),
        url=url,
        secret_scelle=secret_scelle,
        types=sorted(set(types)),
        structures=None if structures is None else sorted(set(structures)),
        finalite=finalite,
        position_depart=position_depart,
        motif=motif,
    )


def desabonner(
    registre: Abonnements, *, abonnement_id: str, motif: str, meta: Meta, today: date
) -> AbonnementSupprime:
    """End a subscription; an unknown or already ended one is refused."""
    verifier_texte(motif, "motif")
    if not motif.strip():
        raise DomainError("motif_requis", "Motif: pourquoi l'abonnement prend fin.", field="motif")
    found = registre.get(abonnement_id)
    if found is None:
        raise DomainError(
            "abonnement_inconnu", f"Aucun abonnement {abonnement_id[:80]!r}.", field="abonnement_id"
        )
    if not found.actif:
        raise DomainError(
            "abonnement_supprime", "Cet abonnement est déjà supprimé.", field="abonnement_id"
        )
    return AbonnementSupprime(
        effective_on=today, meta=meta, abonnement_id=abonnement_id, motif=motif
    )
