"""Plain-text tables for the command line's terminal: aligned columns, euros as in the CSV."""

from adapters.render.csv import euros
from projections.statements import Simulation


def simulation_table(sim: Simulation, lines: int = 20) -> str:
    """The simulation as a terminal reads it: totals by partner and by step, then the first
    `lines` priced lines that change."""
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
    if sim.structures_non_declarees:
        skipped = ", ".join(f"{s.structure_id} ({s.faits})" for s in sim.structures_non_declarees)
        out += ["", f"structures non déclarées, faits non payés: {skipped}"]
    out += ["", f"{len(sim.lignes_modifiees)} ligne(s) modifiée(s)"]
    for line in sim.lignes_modifiees[:lines]:
        out.append(
            f"  {line.partenaire:<14} {str(line.case_id or '-')[-8:]:<9} {line.etape.value:<24}"
            f"{line.reference:<18}{euros(line.actuel):>12} → {euros(line.simule):>10}"
        )
    return "\n".join(out)
