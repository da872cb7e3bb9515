"""The registry of agents' rights: which person holds which role in which structures, from when
to when.

The State's identity federation (ProConnect, OIDC) says who a person is (`sub`, `email`…) but
not what they may do here, so parcours keeps its own registry. Granting (`DroitAccorde`) and
revoking (`DroitRetire`) are events on one aggregate for the département, like the tariff book:
who granted what to whom, when and why stays in the log. `Registre` folds them; `droits_a`
gives a person's active roles and structures on a day.
"""

import uuid
from collections.abc import Iterable
from datetime import date, datetime

import msgspec

from domain.bounds import verifier_champs, verifier_texte
from domain.errors import DomainError
from domain.events import Evenement, Meta
from domain.vocabulary import RoleAgent as RoleAgent

REGISTRE_DROITS_ID = uuid.uuid5(uuid.UUID("5b0e7c2a-94d1-4f3e-8a6b-2c7d1e9f0a43"), "droits")
"""The département's one registry of rights."""

AGENT_MAX = 254
"""An OIDC `sub` or an e-mail address (RFC 5321's longest path)."""


class DroitAccorde(Evenement, frozen=True, kw_only=True):
    """`role` granted to `agent` (an OIDC `sub` or an e-mail), over `structures`, from
    `effective_on` (`du`) to `au` included (None: until revoked)."""

    droit_id: str
    agent: str
    role: RoleAgent
    structures: list[str] = msgspec.field(default_factory=list)
    au: date | None = None
    motif: str


class DroitRetire(Evenement, frozen=True, kw_only=True):
    """The right `droit_id` revoked from `effective_on`."""

    droit_id: str
    motif: str


class Retrait(msgspec.Struct, frozen=True, kw_only=True):
    le: date
    par: str
    enregistre_le: datetime
    motif: str


class Droit(msgspec.Struct, frozen=True, kw_only=True):
    """One right as granted, with who granted it and when, and its revocation if any."""

    droit_id: str
    agent: str
    role: RoleAgent
    structures: list[str]
    du: date
    au: date | None
    motif: str
    accorde_par: str
    accorde_le: datetime
    retrait: Retrait | None = None

    def actif(self, day: date) -> bool:
        return (
            self.du <= day
            and (self.au is None or day <= self.au)
            and (self.retrait is None or day < self.retrait.le)
        )


class Droits(msgspec.Struct, frozen=True, kw_only=True):
    """A person's active roles and structures on a day."""

    roles: frozenset[RoleAgent] = frozenset()
    structures: frozenset[str] = frozenset()


def cle_agent(agent: str) -> str:
    """How an agent is keyed: an e-mail is compared without case, a `sub` as given."""
    agent = agent.strip()
    return agent.lower() if "@" in agent else agent


class Registre:
    """Every right granted, in grant order, folded from the registry's events."""

    def __init__(self, events: Iterable[Evenement] = ()) -> None:
        self._droits: dict[str, Droit] = {}
        for event in events:
            self.evolve(event)

    def evolve(self, event: Evenement) -> None:
        """Partial fold: the registry's two event types; any other leaves it as it is."""
        match event:
            case DroitAccorde():
                self._droits[event.droit_id] = Droit(
                    droit_id=event.droit_id,
                    agent=event.agent,
                    role=event.role,
                    structures=event.structures,
                    du=event.effective_on,
                    au=event.au,
                    motif=event.motif,
                    accorde_par=event.meta.recorded_by,
                    accorde_le=event.meta.recorded_at,
                )
            case DroitRetire() if event.droit_id in self._droits:
                self._droits[event.droit_id] = msgspec.structs.replace(
                    self._droits[event.droit_id],
                    retrait=Retrait(
                        le=event.effective_on,
                        par=event.meta.recorded_by,
                        enregistre_le=event.meta.recorded_at,
                        motif=event.motif,
                    ),
                )
            case _:
                pass

    def all(self) -> list[Droit]:
        return list(self._droits.values())

    def get(self, droit_id: str) -> Droit | None:
        return self._droits.get(droit_id)

    def droits_a(self, day: date, *agents: str | None) -> Droits:
        """The roles and structures active on `day` of whoever is named by any of `agents`
        (a `sub`, an e-mail)."""
        keys = {cle_agent(a) for a in agents if a}
        active = [d for d in self._droits.values() if d.agent in keys and d.actif(day)]
        return Droits(
            roles=frozenset(d.role for d in active),
            structures=frozenset(s for d in active for s in d.structures),
        )


# --- the rules ------------------------------------------------------------------------------


def accorder(
    registre: Registre,
    *,
    agent: str,
    role: RoleAgent,
    structures: list[str],
    du: date,
    au: date | None,
    motif: str,
    meta: Meta,
    today: date,
) -> DroitAccorde:
    """Grant a right, refused (naming the field) when no one could use it: an agent without
    a structure, an end before the start, values out of the log's bounds."""
    key = cle_agent(agent)
    if not key or len(key) > AGENT_MAX or any(c.isspace() for c in key):
        raise DomainError(
            "agent_invalide",
            f"Agent: un identifiant OIDC (sub) ou un e-mail, 1 à {AGENT_MAX} caractères sans "
            "espace.",
            field="agent",
        )
    verifier_champs(today, agent=key, du=du, au=au, motif=motif)
    if not motif.strip():
        raise DomainError("motif_requis", "Motif: pourquoi ce droit est accordé.", field="motif")
    for i, structure in enumerate(structures):
        verifier_texte(structure, f"structures[{i}]", "structure_id")
    verifier_champs(today, structures=structures)
    if role is RoleAgent.AGENT and not structures:
        raise DomainError(
            "structures_requises",
            "Le rôle agent ne vaut que pour ses structures: au moins une.",
            field="structures",
        )
    if au is not None and au < du:
        raise DomainError("au_avant_du", "La fin du droit précède son début.", field="au")
    return DroitAccorde(
        effective_on=du,
        meta=meta,
        droit_id=f"droit-{len(registre.all()) + 1}",
        agent=key,
        role=role,
        structures=sorted(set(structures)),
        au=au,
        motif=motif,
    )


def retirer(
    registre: Registre,
    *,
    droit_id: str | None,
    agent: str | None,
    role: RoleAgent | None,
    motif: str,
    meta: Meta,
    today: date,
) -> list[DroitRetire]:
    """Revoke one right by its id, or every active right of `agent` for `role`, from today;
    an unknown or already revoked right is refused, naming the field that designates it."""
    verifier_champs(today, droit_id=droit_id, agent=agent, motif=motif)
    if not motif.strip():
        raise DomainError("motif_requis", "Motif: pourquoi ce droit est retiré.", field="motif")
    if droit_id is not None:
        found = registre.get(droit_id)
        if found is None:
            raise DomainError("droit_inconnu", f"Aucun droit {droit_id!r}.", field="droit_id")
        if found.retrait is not None:
            raise DomainError("droit_deja_retire", "Ce droit est déjà retiré.", field="droit_id")
        targets = [found]
    elif agent is not None and role is not None:
        key = cle_agent(agent)
        targets = [
            d for d in registre.all() if d.agent == key and d.role is role and d.retrait is None
        ]
        if not targets:
            raise DomainError(
                "droit_inconnu", f"Aucun droit {role.value} en cours pour {key!r}.", field="agent"
            )
    else:
        raise DomainError(
            "droit_non_designe", "Donner droit_id, ou agent et role.", field="droit_id"
        )
    return [
        DroitRetire(effective_on=today, meta=meta, droit_id=d.droit_id, motif=motif)
        for d in targets
    ]
