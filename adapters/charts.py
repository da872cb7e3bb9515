"""Charts of time-to-event curves (matplotlib, no display: the Agg backend)."""

import io
from collections.abc import Sequence
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from projections.cohort_analysis import CourbesCohorte

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
