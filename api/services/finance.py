"""Financing on the store: pricing the activity read model under the adopted schedules (or a
candidate one), statements drafted, issued and read back as issued.

Priced lines are not stored: they are recomputed from the activity facts at each read, so an
adoption (even retroactive) takes effect at once, while an issued statement, stored whole in
the log, stays exactly as issued.
"""

from datetime import date

import msgspec

from adapters.eventlog.store import Parcours
from adapters.readmodels.activity_store import ActiviteStore, Snapshot
from adapters.readmodels.models import ActiviteModel, open_activite_store
from api.services.commands import Author, execute, refused
from api.services.ledger import checkpoint_after
from api.services.schedules import en_vigueur
from api.services.structures import load_structures
from domain.decide import Contexte
from domain.errors import DomainError
from domain.events import Recorded
from domain.payments import Etat, EtatEmis, Ligne, bornes, statements_id
from domain.structures import StructureRegistry
from domain.tariffs import Bareme, Simule, Tarification
from domain.vocabulary import TypeOrganisme
from projections.indicateurs import Periode
from projections.pricing import aave_lines, case_lines, non_declarees, price
from projections.statements import Simulation, comparer, etablir


class EtatDejaEmis(DomainError):
    def __init__(self, etat_id: str) -> None:
        super().__init__(
            "etat_deja_emis",
            f"L'état {etat_id} est déjà émis; les écarts iront sur l'état suivant.",
            field="periode",
        )


class PartenaireInconnu(DomainError):
    def __init__(self, partenaire: str) -> None:
        super().__init__(
            "partenaire_inconnu",
            f"Aucune structure déclarée sous l'identifiant {partenaire!r}.",
            field="partenaire",
        )


def _needs_aave(
    tarification: Tarification, registry: StructureRegistry, du: date, au: date
) -> bool:
    if not any(s.type_organisme is TypeOrganisme.AAVE for s in registry.all()):
        return False
    return any(
        tarification.pour(date(y, 1, 1), TypeOrganisme.AAVE) is not None
        for y in range(du.year, au.year + 1)
    )


def _etat(recorded: Recorded) -> Etat:
    assert isinstance(recorded.event, EtatEmis)
    return recorded.event.etat


class Finance:
    """Pricing, statements and simulations over one application's store."""

    def __init__(self, app: Parcours, store: ActiviteStore | None = None) -> None:
        self.app = app
        self.store = store or open_activite_store(app)

    @property
    def tracking_name(self) -> str:
        return f"{self.app.name}.{ActiviteModel.name}"

    def snapshot(self, with_aave: bool) -> Snapshot:
        return self.store.snapshot(self.tracking_name, with_aave)

    def registry(self) -> StructureRegistry:
        return load_structures(self.app)

    def price(
        self,
        periode: Periode,
        tarification: Tarification | None = None,
        snapshot: Snapshot | None = None,
        registry: StructureRegistry | None = None,
    ) -> tuple[int, list[Ligne]]:
        """The lines dated in `periode` under `tarification` (default: the schedules adopted),
        with the log position the facts reflect."""
        registry = registry or self.registry()
        tarification = tarification or en_vigueur(self.app)
        if snapshot is None:
            snapshot = self.snapshot(_needs_aave(tarification, registry, periode.du, periode.au))
        lines = price(snapshot.activites, tarification, registry, periode, snapshot.suivis)
        return snapshot.position, lines

    # --- simulation ---------------------------------------------------------------------------

    def simulate(self, bareme: Bareme, periode: Periode) -> Simulation:
        """The period priced under `bareme` (whatever its own dates) next to the schedules in
        force, and the structures of its activity left unpriced for want of a declaration;
        nothing is written."""
        registry = self.registry()
        current = en_vigueur(self.app)
        candidate = Simule(bareme, current)
        aave = _needs_aave(current, registry, periode.du, periode.au) or _needs_aave(
            candidate, registry, periode.du, periode.au
        )
        snapshot = self.snapshot(aave)
        _, actuel = self.price(periode, current, snapshot, registry)
        _, simule = self.price(periode, candidate, snapshot, registry)
        return comparer(
            periode.du,
            periode.au,
            actuel,
            simule,
            candidate.references()[0],
            current.references(),
            snapshot.position,
            non_declarees(snapshot.activites, registry, periode),
        )

    # --- statements ---------------------------------------------------------------------------

    def issued(self, partenaire: str) -> list[Etat]:
        """The partner's issued statements, in the order issued."""
        return [_etat(r) for r in self.app.history(statements_id(partenaire))]

    def draft(
        self,
        partenaire: str,
        periode: str,
        registry: StructureRegistry | None = None,
        emis: list[Etat] | None = None,
    ) -> Etat:
        """The statement as it would be issued now (after `emis`, the partner's statements
        issued, when the caller has read them)."""
        registry = registry or self.registry()
        kind = registry.type_of(partenaire)
        if kind is None:
            raise PartenaireInconnu(partenaire)
        du, au = bornes(periode)
        emis = self.issued(partenaire) if emis is None else emis
        tarification = en_vigueur(self.app)
        aave = kind is TypeOrganisme.AAVE and _needs_aave(tarification, registry, du, au)
        snapshot = self.snapshot(aave)
        lines: list[Ligne] = []
        for a in snapshot.activites:
            lines.extend(
                line
                for line in case_lines(a, tarification, registry)
                if line.partenaire == partenaire and line.le <= au
            )
        if aave:
            first = min([du, *(e.du for e in emis)])
            for line in aave_lines(
                snapshot.suivis, tarification, registry, range(first.year, au.year + 1)
            ):
                if line.partenaire == partenaire and line.le <= au:
                    lines.append(line)
        return etablir(
            partenaire, kind, periode, lines, emis, snapshot.position, tarification.references()
        )

    def statement(self, partenaire: str, periode: str) -> Etat:
        """The issued statement if there is one, else the draft."""
        bornes(periode)
        for etat in self.issued(partenaire):
            if etat.periode == periode:
                return etat
        return self.draft(partenaire, periode)

    def issue(self, partenaire: str, periode: str, author: Author) -> Etat:
        """Issue the statement: recorded whole, it is read back exactly as issued."""

        def decide(history: list[Recorded], ctx: Contexte) -> list[EtatEmis]:
            emis = [_etat(r) for r in history]
            if any(e.periode == periode for e in emis):
                raise EtatDejaEmis(f"{partenaire}/{periode}")
            draft = self.draft(partenaire, periode, emis=emis)
            now = ctx.meta.recorded_at
            etat = msgspec.structs.replace(draft, statut="emis", emis_le=now, emis_par=author.user)
            return [EtatEmis(effective_on=ctx.today, meta=ctx.meta, etat=etat)]

        appended = execute(
            self.app,
            statements_id(partenaire),
            decide,
            author,
            lost_race=refused("etat_concurrent", "État émis en même temps.", "periode"),
        )
        # A signed checkpoint with each statement: the log it was computed from stays provable.
        checkpoint_after(self.app, f"etat:{partenaire}/{periode}")
        return _etat(appended.recorded[-1])

    def statements(self, partenaire: str | None = None) -> list[Etat]:
        """Issued statements of one partner, or of every declared structure."""
        partners = [partenaire] if partenaire else [s.structure_id for s in self.registry().all()]
        return [e for p in partners for e in self.issued(p)]
