"""Charts of time-to-event curves (matplotlib, no display: the Agg backend)."""

import io
from collections.abc import Sequence
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from projections.cohort_analysis import CourbesCohorte
from projections.indicateurs import Tableau
from projections.statements import Simulation

ImageFormat = Literal["png", "svg"]

LABELS = {"orientation": "orientés", "contrat": "sous contrat (1er CER)", "sortie": "sortis"}
COLOURS = {"orientation": "#1f77b4", "contrat": "#2ca02c", "sortie": "#d62728"}
STYLES = ("-", "--", ":", "-.")


def curves_chart(cohorts: Sequence[CourbesCohorte], fmt: ImageFormat = "png") -> bytes:
    """One chart: each milestone in its colour, each cohort in its line style."""
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=100)
    try:
        for style, cohort in zip(STYLES, cohorts, strict=False):
            for courbe in cohort.courbes:
                ax.plot(
                    courbe.jours,
                    [100 * p for p in courbe.parts],
                    linestyle=style,
                    color=COLOURS.get(courbe.jalon),
                    label=f"{cohort.cohorte} ({cohort.episodes:,} épisodes) — "
                    f"{LABELS.get(courbe.jalon, courbe.jalon)}".replace(",", " "),
                )
        ax.set_xlabel("jours après l'entrée")
        ax.set_ylabel("part des épisodes de la cohorte (%)")
        ax.set_ylim(0, 100)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title("Délais jusqu'à l'orientation, au contrat, à la sortie")
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def delays_chart(tableau: Tableau, titre: str, fmt: ImageFormat = "png") -> bytes:
    """Monthly delays (mean and 90th percentile of orientation and contract delays) from a
    `taux` table broken down by month, with the month's volume as bars."""
    months = [str(line["mois"]) for line in tableau.lignes if line.get("mois")]
    lines = [line for line in tableau.lignes if line.get("mois")]
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=100)
    try:
        series = (
            ("delai_orientation_moyen", "orientation, moyenne", "#1f77b4", "-"),
            ("delai_orientation_p90", "orientation, 90e centile", "#1f77b4", ":"),
            ("delai_contractualisation_moyen", "contrat, moyenne", "#2ca02c", "-"),
            ("delai_contractualisation_p90", "contrat, 90e centile", "#2ca02c", ":"),
        )
        for key, label, colour, style in series:
            values = [line.get(key) for line in lines]
            ax.plot(
                range(len(months)),
                [float("nan") if v is None else v for v in values],
                marker="o",
                color=colour,
                linestyle=style,
                label=label,
            )
        ax.set_xlabel("mois")
        ax.set_ylabel("jours")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(titre)
        ax.set_xticks(range(len(months)), months, rotation=45)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def financing_chart(sim: Simulation, fmt: ImageFormat = "png") -> bytes:
    """Totals per partner under the schedules in force and under the candidate, side by side."""
    groups = sim.par_partenaire
    names = [e.groupe for e in groups]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(names) + 3), 5.5), dpi=100)
    try:
        xs = range(len(names))
        width = 0.4
        ax.bar(
            [x - width / 2 for x in xs],
            [e.actuel / 100 for e in groups],
            width,
            label="barèmes en vigueur",
            color="#1f77b4",
        )
        ax.bar(
            [x + width / 2 for x in xs],
            [e.simule / 100 for e in groups],
            width,
            label=f"simulé: {sim.bareme.split(' ')[0]}",
            color="#ff7f0e",
        )
        ax.set_xticks(list(xs), names, rotation=45, ha="right")
        ax.set_ylabel("€")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"Total par partenaire, du {sim.du} au {sim.au}")
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)
