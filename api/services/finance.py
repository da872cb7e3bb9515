"""Financing on the store: pricing the activity read model under the adopted schedules (or a
candidate one), statements drafted, issued and read back as issued, and their CSV.

Priced lines are not stored: they are recomputed from the activity facts at each read, so an
adoption (even retroactive) takes effect at once, while an issued statement, stored whole in
the log, stays exactly as issued.
"""

import csv
import io
from collections.abc import Iterable
from datetime import date

import msgspec
from eventsourcing.persistence import IntegrityError

from adapters.eventlog.store import Author, Parcours
from adapters.readmodels.activity_store import ActiviteStore, Snapshot
from adapters.readmodels.models import ActiviteModel, open_activite_store
from api.services.schedules import en_vigueur
from api.services.structures import load_structures
from domain.errors import DomainError
from domain.events import Meta, Recorded
from domain.payments import LIBELLES_ETAPE, Etat, EtatEmis, Ligne, bornes, statements_id
from domain.structures import StructureRegistry
from domain.tariffs import Bareme, Simule, Tarification
from domain.vocabulary import TypeOrganisme
from projections.indicateurs import Periode
from projections.pricing import aave_lines, case_lines, price
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
        force; nothing is written."""
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
        )

    # --- statements ---------------------------------------------------------------------------

    def issued(self, partenaire: str) -> list[Etat]:
        """The partner's issued statements, in the order issued."""
        out = []
        for r in self.app.events.get(statements_id(partenaire)):
            assert isinstance(r, Recorded)
            assert isinstance(r.event, EtatEmis)
            out.append(r.event.etat)
        return out

    def draft(
        self, partenaire: str, periode: str, registry: StructureRegistry | None = None
    ) -> Etat:
        """The statement as it would be issued now."""
        registry = registry or self.registry()
        kind = registry.type_of(partenaire)
        if kind is None:
            raise PartenaireInconnu(partenaire)
        du, au = bornes(periode)
        emis = self.issued(partenaire)
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
        aggregate = statements_id(partenaire)
        for _ in range(3):
            emis = self.issued(partenaire)
            if any(e.periode == periode for e in emis):
                raise EtatDejaEmis(f"{partenaire}/{periode}")
            draft = self.draft(partenaire, periode)
            now = self.app.clock()
            etat = msgspec.structs.replace(draft, statut="emis", emis_le=now, emis_par=author.user)
            event = EtatEmis(
                effective_on=now.astimezone(self.app.tz).date(),
                meta=Meta(
                    recorded_at=now,
                    recorded_by=author.user,
                    structure_id=author.structure_id,
                    request_id=author.request_id,
                ),
                etat=etat,
            )
            try:
                self.app.events.put([Recorded(aggregate, len(emis) + 1, event)])
            except IntegrityError:
                continue
            return etat
        raise DomainError("etat_concurrent", "État émis en même temps.", field="periode")

    def statements(self, partenaire: str | None = None) -> list[Etat]:
        """Issued statements of one partner, or of every declared structure."""
        partners = [partenaire] if partenaire else [s.structure_id for s in self.registry().all()]
        return [e for p in partners for e in self.issued(p)]


# --- CSV --------------------------------------------------------------------------------------


def euros(cents: int) -> str:
    """Cents as a French spreadsheet reads euros: `1234,50`."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole},{rest:02d}"


COLONNES_ETAT = (
    "Nature",
    "Partenaire",
    "Dossier",
    "Étape",
    "Référence",
    "Du",
    "Au",
    "Date",
    "Montant (€)",
    "Montant déjà payé (€)",
    "Règle",
    "Événements (versions)",
    "Détail",
)


def _line_row(nature: str, line: Ligne) -> list[str]:
    return [
        nature,
        line.partenaire,
        str(line.case_id or ""),
        LIBELLES_ETAPE[line.etape],
        line.reference,
        line.du.isoformat(),
        line.au.isoformat(),
        line.le.isoformat(),
        euros(line.montant),
        "",
        line.regle,
        " ".join(map(str, line.evenements)),
        line.detail,
    ]


MOTIFS = {"annulee": "étape annulée", "modifiee": "montant modifié", "tardive": "ligne tardive"}


def etat_csv(etat: Etat) -> str:
    """The statement for a spreadsheet: `;` separated, French headers, decimal commas; lines,
    then adjustments, then the totals."""
    buffer = io.StringIO()
    w = csv.writer(buffer, delimiter=";", lineterminator="\n")
    w.writerow(COLONNES_ETAT)
    for line in etat.lignes:
        w.writerow(_line_row("Ligne", line))
    for adj in etat.ajustements:
        row = (
            _line_row(f"Ajustement ({MOTIFS[adj.motif]})", adj.ligne)
            if adj.ligne is not None
            else [
                f"Ajustement ({MOTIFS[adj.motif]})",
                adj.partenaire,
                str(adj.case_id or ""),
                LIBELLES_ETAPE[adj.etape],
                adj.reference,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "payé par " + ", ".join(adj.etats),
            ]
        )
        row[8] = euros(adj.montant)
        row[9] = euros(adj.montant_emis)
        w.writerow(row)
    blank = [""] * (len(COLONNES_ETAT) - 9)
    w.writerow(
        [
            "Total des lignes",
            etat.partenaire,
            "",
            "",
            etat.periode,
            etat.du.isoformat(),
            etat.au.isoformat(),
            "",
            euros(etat.total_lignes),
            *blank,
        ]
    )
    w.writerow(
        [
            "Total des ajustements",
            etat.partenaire,
            "",
            "",
            etat.periode,
            "",
            "",
            "",
            euros(etat.total_ajustements),
            *blank,
        ]
    )
    w.writerow(
        ["Total", etat.partenaire, "", "", etat.periode, "", "", "", euros(etat.total), *blank]
    )
    return buffer.getvalue()


def simulation_csv(sim: Simulation) -> str:
    """Per partner, per step, then line by line: in force, simulated, difference (euros)."""
    buffer = io.StringIO()
    w = csv.writer(buffer, delimiter=";", lineterminator="\n")
    w.writerow(
        [
            "Niveau",
            "Partenaire ou étape",
            "Dossier",
            "Référence",
            "En vigueur (€)",
            "Simulé (€)",
            "Écart (€)",
            "Règle en vigueur",
            "Règle simulée",
        ]
    )
    for e in sim.par_partenaire:
        w.writerow(
            [
                "Partenaire",
                e.groupe,
                "",
                "",
                euros(e.actuel),
                euros(e.simule),
                euros(e.ecart),
                "",
                "",
            ]
        )
    for e in sim.par_etape:
        w.writerow(
            ["Étape", e.groupe, "", "", euros(e.actuel), euros(e.simule), euros(e.ecart), "", ""]
        )
    for line in sim.lignes_modifiees:
        w.writerow(
            [
                f"Ligne ({line.etape.value})",
                line.partenaire,
                str(line.case_id or ""),
                line.reference,
                euros(line.actuel),
                euros(line.simule),
                euros(line.ecart),
                line.regle_actuelle or "",
                line.regle_simulee or "",
            ]
        )
    w.writerow(
        ["Total", "", "", "", euros(sim.actuel), euros(sim.simule), euros(sim.ecart), "", ""]
    )
    return buffer.getvalue()


def table(sim: Simulation, lines: int = 20) -> str:
    """The simulation as a terminal reads it."""
    out = [
        f"Simulation du {sim.du} au {sim.au} sous {sim.bareme}",
        f"en vigueur: {'; '.join(sim.en_vigueur) or 'aucun barème adopté'}",
        "",
        f"{'partenaire':<24}{'en vigueur':>16}{'simulé':>16}{'écart':>16}",
    ]
    for e in sim.par_partenaire:
        out.append(f"{e.groupe:<24}{euros(e.actuel):>16}{euros(e.simule):>16}{euros(e.ecart):>16}")
    out.append(f"{'total':<24}{euros(sim.actuel):>16}{euros(sim.simule):>16}{euros(sim.ecart):>16}")
    out += ["", f"{'étape':<24}{'en vigueur':>16}{'simulé':>16}{'écart':>16}"]
    for e in sim.par_etape:
        out.append(f"{e.groupe:<24}{euros(e.actuel):>16}{euros(e.simule):>16}{euros(e.ecart):>16}")
    out += ["", f"{len(sim.lignes_modifiees)} ligne(s) modifiée(s)"]
    for line in sim.lignes_modifiees[:lines]:
        out.append(
            f"  {line.partenaire:<14} {str(line.case_id or '-')[-8:]:<9} {line.etape.value:<24}"
            f"{line.reference:<18}{euros(line.actuel):>12} → {euros(line.simule):>10}"
        )
    return "\n".join(out)


def totals_by_partner(lines: Iterable[Ligne]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        out[line.partenaire] = out.get(line.partenaire, 0) + line.montant
    return out
