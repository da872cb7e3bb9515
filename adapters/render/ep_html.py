"""An EP session's agenda and minutes as self-contained HTML pages to print or file, from the
session's and the cases' events. Only what the log holds: a file number, never a name."""

from html import escape
from typing import Any

import msgspec

from projections.ep_seances import Point, Seance

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#eee}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:bold}
"""

_MOTIFS = {
    "sanction": "Manquement (sanction)",
    "reorientation_sociale": "Réorientation vers le social",
}


def texte(value: Any) -> str:
    """A value as the documents print it (a dash for what is not known)."""
    return "—" if value is None else str(value)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


# --- the content, shared by the HTML page and the PDF (adapters.render.ep_pdf) ---------------


def entete(seance: Seance) -> list[tuple[str, str]]:
    """The session's heading: (label, value) lines."""
    s = seance.session
    rows: list[tuple[str, Any]] = [
        ("Équipe pluridisciplinaire", s.ep_id),
        ("Séance", s.session_id),
        ("Date", s.date_session),
        ("Lieu", s.lieu),
    ]
    if s.tenue_le is not None:
        rows += [("Tenue le", s.tenue_le), ("Membres présents", ", ".join(s.membres))]
    return [(k, texte(v)) for k, v in rows]


def _observations(p: Point) -> str:
    if p.observations_le is not None:
        heard = " (audition demandée)" if p.audition_demandee else ""
        return f"reçues le {p.observations_le}{heard}"
    if p.date_limite_observations is not None:
        return f"attendues jusqu'au {p.date_limite_observations}"
    return "non notifiées"


def _motif(p: Point) -> str:
    return _MOTIFS.get(p.motif_saisine.value, p.motif_saisine.value)


def _avis(p: Point) -> str:
    if p.avis is None:
        return "—"
    terms = ""
    if p.avis_pourcentage is not None:
        terms += f" {p.avis_pourcentage} %"
    if p.avis_duree_mois is not None:
        terms += f" pendant {p.avis_duree_mois} mois"
    return p.avis.value + terms


class Document(msgspec.Struct, frozen=True, kw_only=True):
    """A document's text: its title, heading lines, and a table (one row per point)."""

    titre: str
    entete: list[tuple[str, str]]
    colonnes: list[str]
    lignes: list[list[str]]


def ordre_du_jour(seance: Seance) -> Document:
    return Document(
        titre=f"Ordre du jour — séance {seance.session.session_id}",
        entete=entete(seance),
        colonnes=["Point", "Dossier", "Saisine", "Motif", "Objet", "Manquement le", "Observations"],
        lignes=[
            [
                str(i),
                texte(p.numero_dossier),
                texte(p.saisine),
                _motif(p),
                texte(p.manquement),
                texte(p.date_manquement),
                _observations(p),
            ]
            for i, p in enumerate(seance.points, 1)
        ],
    )


def proces_verbal(seance: Seance) -> Document:
    return Document(
        titre=f"Procès-verbal — séance {seance.session.session_id}",
        entete=entete(seance),
        colonnes=[
            "Point",
            "Dossier",
            "Saisine",
            "Motif",
            "Observations",
            "Avis de l'EP",
            "Décision du président",
            "Décidée le",
        ],
        lignes=[
            [
                str(i),
                texte(p.numero_dossier),
                texte(p.saisine),
                _motif(p),
                _observations(p),
                _avis(p),
                texte(p.decision),
                texte(p.decision_le),
            ]
            for i, p in enumerate(seance.points, 1)
        ],
    )


def html(document: Document) -> str:
    head = (
        "<dl>"
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in document.entete)
        + "</dl>"
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in line) + "</tr>"
        for line in document.lignes
    )
    table = (
        "<table><thead><tr>"
        + "".join(f"<th>{escape(c)}</th>" for c in document.colonnes)
        + f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    return _page(document.titre, head + table)


def ordre_du_jour_html(seance: Seance) -> str:
    return html(ordre_du_jour(seance))


def proces_verbal_html(seance: Seance) -> str:
    return html(proces_verbal(seance))
