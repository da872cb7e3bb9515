"""Import of a CAF/MSA flux file: validate, then decide and append household by household, in
batches (one transaction per batch for the events, one for the new identities).

Every command goes through the domain's `decide` against the case state (loaded for the whole
batch in one query); a household whose facts are inconsistent, or refused by a rule, is left out
and reported, the rest of its batch is written. A batch that loses a race with another writer
is replayed household by household, so nothing is half-imported and nothing accepted is lost.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from adapters.eventlog.reading import case_histories
from adapters.eventlog.store import Parcours
from adapters.flux.limits import LIMITES, Limites
from adapters.flux.mapping import FoyerIncoherent, check, faits
from adapters.flux.reader import EnTete, FluxInvalide, FoyerFlux, PersonneFlux
from adapters.flux.reports import Rapport, Rejet, ReportStore
from adapters.flux.spool import PreparedSpool, sha256
from adapters.flux.writer import BatchStore, Payload
from adapters.identity import Identite, IdentityStore
from adapters.readmodels.quarantine import describe
from api.services.commands import Author, context, retrying
from api.services.ledger import checkpoint_after
from domain.commands import DeciderOrientation
from domain.corrections import effective_events
from domain.decide import Contexte, decide
from domain.dossier import Dossier, evolve, fold
from domain.errors import DomainError
from domain.events import Evenement, Recorded
from domain.orientation_auto import JEUX, JeuDeRegles, Situation, en_vigueur, orienter

Progress = Callable[[int], None]


@dataclass
class _Case:
    """A case as the batch sees it: state, version, the facts it holds, its last date."""

    state: Dossier
    version: int
    keys: set[tuple[str, date]]
    last_effective: date | None


@dataclass
class _Plan:
    """What one household writes."""

    recorded: list[Recorded] = field(default_factory=list)
    identities: list[tuple[str, UUID, Identite]] = field(default_factory=list)
    refresh: list[tuple[UUID, Identite]] = field(default_factory=list)
    cases: dict[UUID, _Case] = field(default_factory=dict)
    created: int = 0
    untracked: int = 0


@dataclass
class _Prepared:
    """A batch decided but not yet written, and what it will count in the report."""

    households: int
    people: list[tuple[str, UUID, Identite]] = field(default_factory=list)
    refresh: list[tuple[UUID, Identite]] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    rejected: list[Rejet] = field(default_factory=list)
    payload: Payload | None = None
    """The rows as the store will COPY them, when it does (then `people` and `recorded` are
    dropped: a prepared batch waits in the spool, and bytes pickle fast)."""
    kinds: dict[str, int] = field(default_factory=dict)
    imported: int = 0
    unchanged: int = 0
    created: int = 0
    untracked: int = 0


def _case_of(events: list[Evenement]) -> _Case:
    return _Case(
        state=fold(effective_events(events)),
        version=len(events),
        keys={(type(e).__name__, e.effective_on) for e in events},
        last_effective=max((e.effective_on for e in events), default=None),
    )


class FluxImporter:
    def __init__(
        self,
        app: Parcours,
        identities: IdentityStore | None = None,
        reports: ReportStore | None = None,
        *,
        batch_size: int = 1000,
        orientation_auto: bool = False,
        regles: tuple[JeuDeRegles, ...] = JEUX,
        parallel_from: int = 8 << 20,
        limites: Limites = LIMITES,
    ) -> None:
        """`parallel_from`: size in bytes from which a file is read in another process;
        `limites`: what one file may hold (adapters/flux/limits.py)."""
        self.app = app
        self.identities = identities or IdentityStore(app.settings)
        self.reports = reports or ReportStore(app.settings)
        self.batch_size = batch_size
        self.orientation_auto = orientation_auto
        self.regles = regles
        self.parallel_from = parallel_from
        self.limites = limites
        self.validated_after = 0.0
        """Seconds from the start of the last import to the end of its validating pass."""
        self.store = BatchStore(app, self.identities)
        self._blinds: dict[tuple[int, int], str] = {}

    def import_file(
        self,
        path: Path,
        name: str | None = None,
        progress: Callable[[int], Progress] | None = None,
    ) -> Rapport:
        """Import one file; the report is saved whatever happens and returned.

        The file is validated and read in another process; the batches it has read are
        prepared meanwhile (decided, kept in the spool) and written, each in its own
        transaction, only once the whole file has validated."""
        started = time.perf_counter()
        with PreparedSpool[_Prepared](
            path, self.batch_size, parallel_from=self.parallel_from, limites=self.limites
        ) as spool:
            rapport = Rapport(
                id=uuid.uuid4(),
                fichier=name or path.name,
                sha256=sha256(path),
                recu_le=self.app.clock(),
            )
            self.reports.save(rapport)
            try:
                self._import(spool, rapport, progress, started)
            except FluxInvalide as e:
                rapport.statut = "rejete"
                rapport.rejets = [Rejet(ligne=e.line, motif=e.motif, code=e.code)]
                return self._finish(rapport)
        rapport.statut = "importe"
        return self._finish(rapport)

    def _import(
        self,
        spool: "PreparedSpool[_Prepared]",
        rapport: Rapport,
        progress: Callable[[int], Progress] | None,
        started: float,
    ) -> None:
        """Prepare each batch as soon as it is read; write them all once the file is valid."""
        header: EnTete | None = None
        ctx: Contexte | None = None
        read = 0
        for header, upto in spool.parts():
            if ctx is None:
                flux = Author(
                    user=f"flux-{header.type_flux.lower()}", request_id=f"flux:{rapport.id}"
                )
                ctx = context(self.app, flux)
            if upto > read:
                spool.put(
                    self._prepare(list(spool.households(read, upto)), header, ctx), read, upto
                )
                read = upto
        if header is None or ctx is None:  # parts() raises first
            raise FluxInvalide(1, "bloc IdentificationFlux manquant")
        self.validated_after = time.perf_counter() - started
        rapport.type_flux = header.type_flux
        rapport.date_flux = header.date_creation
        rapport.foyers = spool.total
        advance = progress(spool.total) if progress else None
        for batch_plan, start, end in spool.prepared():
            try:
                self._commit(batch_plan, rapport)
            except IntegrityError:  # another writer got there first: replay
                for foyer in spool.households(start, end):
                    self._run([foyer], header, ctx, rapport)
            if advance:
                advance(batch_plan.households)

    def _finish(self, rapport: Rapport) -> Rapport:
        rapport.termine_le = self.app.clock()
        self.reports.save(rapport)
        if rapport.statut == "importe":
            # A signed checkpoint with each import's report: what the file wrote stays provable.
            checkpoint_after(self.app, f"import:{rapport.fichier}")
        return rapport

    # --- one batch ------------------------------------------------------------------------

    def _run(self, batch: list[FoyerFlux], header: EnTete, ctx: Contexte, rapport: Rapport) -> None:
        """Write the batch; when it loses a race, each household on its own, tried again on
        the new state of its cases (reported rejected if it keeps losing)."""
        try:
            retrying(lambda _: self._write(batch, header, ctx, rapport), 1 if len(batch) > 1 else 3)
        except IntegrityError:
            if len(batch) > 1:
                for foyer in batch:
                    self._run([foyer], header, ctx, rapport)
                return
            rapport.foyers_rejetes += 1
            rapport.rejets.append(
                Rejet(
                    ligne=batch[0].line,
                    foyer=batch[0].rank,
                    motif="écriture concurrente sur le même dossier: réimporter le fichier",
                )
            )

    def _write(
        self, batch: list[FoyerFlux], header: EnTete, ctx: Contexte, rapport: Rapport
    ) -> None:
        """Decide the batch against the stored cases and append it; IntegrityError when
        another writer got there first (nothing of the batch is then written)."""
        self._commit(self._prepare(batch, header, ctx), rapport)

    def _prepare(self, batch: list[FoyerFlux], header: EnTete, ctx: Contexte) -> "_Prepared":
        """Decide the batch against the cases stored now; nothing is written."""
        blind = self.identities.blind_index
        self._blinds = {
            (f.rank, i): blind(f.organisme, f.matricule, p.nir)
            for f in batch
            for i, p in enumerate(f.personnes)
        }
        known = self.store.find(self._blinds.values())
        cases: dict[UUID, _Case] = {}
        self._unfoldable: dict[UUID, str] = {}
        for case_id, history in case_histories(self.app, known.values()).items():
            try:
                cases[case_id] = _case_of([r.event for r in history])
            except Exception as e:  # a step that got into the log under the rules' back
                self._unfoldable[case_id] = describe(e)
        out = _Prepared(households=len(batch))
        for foyer in batch:
            try:
                plan = self._plan(foyer, header, ctx, known, cases)
            except (FoyerIncoherent, DomainError) as e:
                reason = e.detail if isinstance(e, DomainError) else str(e)
                if isinstance(e, DomainError):
                    reason = f"{e.code}: {reason}"
                out.rejected.append(Rejet(ligne=foyer.line, foyer=foyer.rank, motif=reason))
                continue
            cases.update(plan.cases)
            for b, case_id, _ in plan.identities:
                known[b] = case_id
            out.untracked += plan.untracked
            out.refresh.extend(plan.refresh)
            if plan.recorded:
                out.imported += 1
                out.created += plan.created
                out.people.extend(plan.identities)
                out.recorded.extend(plan.recorded)
            else:
                out.unchanged += 1
        for r in out.recorded:
            kind = type(r.event).__name__
            out.kinds[kind] = out.kinds.get(kind, 0) + 1
        out.payload = self.store.encode(out.people, out.recorded)
        if out.payload is not None:
            out.people, out.recorded = [], []
        return out

    def _commit(self, prepared: "_Prepared", rapport: Rapport) -> None:
        """Write a prepared batch and count it; IntegrityError when another writer got there
        first (nothing of the batch is then written nor counted)."""
        refreshed = self.store.write(
            prepared.people, prepared.refresh, prepared.recorded, prepared.payload
        )
        rapport.foyers_importes += prepared.imported
        rapport.foyers_inchanges += prepared.unchanged
        rapport.foyers_rejetes += len(prepared.rejected)
        rapport.rejets.extend(prepared.rejected)
        rapport.dossiers_crees += prepared.created
        rapport.personnes_non_suivies += prepared.untracked
        rapport.identites_mises_a_jour += refreshed
        for kind, n in prepared.kinds.items():
            rapport.evenements[kind] = rapport.evenements.get(kind, 0) + n
            rapport.evenements_total += n

    def _plan(
        self,
        foyer: FoyerFlux,
        header: EnTete,
        ctx: Contexte,
        known: dict[str, UUID],
        cases: dict[UUID, _Case],
    ) -> _Plan:
        if foyer.defaut is not None:
            raise FoyerIncoherent(foyer.defaut)
        check(foyer)
        plan = _Plan()
        household = self.identities.blind_index(foyer.organisme, foyer.matricule, None)
        numero = f"{foyer.organisme}-{household[:12]}"
        for i, p in enumerate(foyer.personnes):
            b = self._blinds[foyer.rank, i]
            case_id = known.get(b)
            if case_id in self._unfoldable:
                raise FoyerIncoherent(
                    f"dossier_en_quarantaine: le dossier {case_id} ne se relit pas "
                    f"({self._unfoldable[case_id]}); annuler l'étape en cause puis réimporter."
                )
            case = cases.get(case_id) if case_id else None
            if case is None:
                case = _Case(Dossier(), 0, set(), None)
            todo = faits(foyer, p, header, case.state, case.last_effective, numero, ctx.today)
            todo = [f for f in todo if (f.event, f.effective_on) not in case.keys]
            if case_id is not None:
                plan.refresh.append((case_id, _identite(foyer, p)))
            if not todo:
                plan.untracked += case_id is None
                continue
            if case_id is None:
                case_id = uuid.uuid4()
                plan.identities.append((b, case_id, _identite(foyer, p)))
                plan.created += 1
            state, version = case.state, case.version
            keys, last = set(case.keys), case.last_effective
            commands = [f.command for f in todo]
            if self.orientation_auto and todo[0].event in ("EntreeEnregistree", "DroitRouvert"):
                auto = self._orientation(p, ctx.today)
                if auto is not None:
                    commands.insert(1, auto)
            for command in commands:
                for event in decide(state, command, ctx):
                    version += 1
                    state = evolve(state, event)
                    keys.add((type(event).__name__, event.effective_on))
                    last = max(last or event.effective_on, event.effective_on)
                    plan.recorded.append(Recorded(case_id, version, event))
            plan.cases[case_id] = _Case(state, version, keys, last)
        return plan

    def _orientation(self, p: PersonneFlux, today: date) -> DeciderOrientation | None:
        jeu = en_vigueur(self.regles, today)
        if jeu is None:
            return None
        situation = Situation(
            inscrit_pole_emploi=p.identifiant_pole_emploi is not None, suivi_departement=False
        )
        return orienter(jeu, situation, today)


def _identite(foyer: FoyerFlux, p: PersonneFlux) -> Identite:
    return Identite(
        organisme=foyer.organisme,
        matricule=foyer.matricule,
        nir=p.nir,
        nom=p.nom,
        nom_naissance=p.nom_naissance,
        prenoms=p.prenoms,
        date_naissance=p.date_naissance,
        commune_naissance=p.commune_naissance,
        adresse=foyer.adresse,
        code_postal=foyer.code_postal,
        commune=foyer.commune,
        identifiant_pole_emploi=p.identifiant_pole_emploi,
    )
