"""Spreadsheet CSV for French readers: `;` separated, French headers, decimal commas; the
statistics tables, the worklists, the financing statements and simulations, the access log.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from adapters.access_log import Acces
from domain.payments import LIBELLES_ETAPE, Etat, Ligne
from projections.indicateurs import Tableau
from projections.statements import Simulation
from projections.worklists import Alerte


def write(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The header then the rows, as a French spreadsheet opens them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def encoded(text: str) -> bytes:
    """The bytes of every CSV parcours hands out, as a file or over HTTP: UTF-8 with a
    byte-order mark, so that a French spreadsheet reads the accents right."""
    return text.encode("utf-8-sig")


def cell(value: Any, empty: str = "") -> str:
    """A value as a French reader expects it: oui/non, decimal comma, `empty` for none."""
    if value is None:
        return empty
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def table_csv(tableau: Tableau) -> str:
    """An indicator table, one row a line of the table."""
    return write(
        [c.libelle for c in tableau.colonnes],
        ([cell(line.get(c.nom)) for c in tableau.colonnes] for line in tableau.lignes),
    )


WORKLIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_id", "Dossier"),
    ("motif", "Motif"),
    ("libelle", "Libellé"),
    ("echeance", "Échéance"),
    ("depuis", "Depuis le"),
    ("jours", "Jours"),
    ("structure_id", "Structure"),
    ("referent_id", "Référent"),
    ("detail", "Détail"),
)


def worklist_csv(lines: Iterable[Alerte]) -> str:
    """A worklist, one row an overdue line."""
    return write(
        [label for _, label in WORKLIST_COLUMNS],
        ([cell(getattr(a, name)) for name, _ in WORKLIST_COLUMNS] for a in lines),
    )


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
    """The statement: lines, then adjustments, then the totals."""
    return write(COLONNES_ETAT, _etat_rows(etat))


def _etat_rows(etat: Etat) -> Iterator[list[str]]:
    for line in etat.lignes:
        yield _line_row("Ligne", line)
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
        yield row
    blank = [""] * (len(COLONNES_ETAT) - 9)
    yield [
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
    yield [
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
    yield ["Total", etat.partenaire, "", "", etat.periode, "", "", "", euros(etat.total), *blank]


COLONNES_SIMULATION = (
    "Niveau",
    "Partenaire ou étape",
    "Dossier",
    "Référence",
    "En vigueur (€)",
    "Simulé (€)",
    "Écart (€)",
    "Règle en vigueur",
    "Règle simulée",
)


def simulation_csv(sim: Simulation) -> str:
    """Per partner, per step, then line by line: in force, simulated, difference (euros)."""
    return write(COLONNES_SIMULATION, _simulation_rows(sim))


def _simulation_rows(sim: Simulation) -> Iterator[list[str]]:
    for level, groups in (("Partenaire", sim.par_partenaire), ("Étape", sim.par_etape)):
        for e in groups:
            yield [
                level,
                e.groupe,
                "",
                "",
                euros(e.actuel),
                euros(e.simule),
                euros(e.ecart),
                "",
                "",
            ]
    for line in sim.lignes_modifiees:
        yield [
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
    yield ["Total", "", "", "", euros(sim.actuel), euros(sim.simule), euros(sim.ecart), "", ""]


ACCESS_COLUMNS = (
    "Date (UTC)",
    "Agent",
    "Rôles",
    "Structures",
    "Dossier",
    "Méthode",
    "Route",
    "Objet",
    "Motif",
    "Issue",
    "Requête",
)


def access_csv(accesses: Iterable[Acces]) -> str:
    """The access log, one row an access, newest first."""
    return write(
        ACCESS_COLUMNS,
        (
            [
                a.at.isoformat(timespec="seconds"),
                a.agent,
                " ".join(a.roles),
                " ".join(a.structures),
                str(a.case_id),
                a.method,
                a.path,
                a.purpose,
                cell(a.motif),
                a.outcome,
                cell(a.request_id),
            ]
            for a in accesses
        ),
    )
