"""An EP session's agenda and minutes as self-contained HTML pages to print or file, from the
session's and the cases' events. Only what the log holds: a file number, never a name."""

from html import escape
from typing import Any

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


def _t(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _entete(seance: Seance) -> str:
    s = seance.session
    rows = [
        ("Équipe pluridisciplinaire", s.ep_id),
        ("Séance", s.session_id),
        ("Date", s.date_session),
        ("Lieu", s.lieu),
    ]
    if s.tenue_le is not None:
        rows += [("Tenue le", s.tenue_le), ("Membres présents", ", ".join(s.membres))]
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{_t(v)}</dd>" for k, v in rows) + "</dl>"


def _observations(p: Point) -> str:
    if p.observations_le is not None:
        heard = " (audition demandée)" if p.audition_demandee else ""
        return f"reçues le {_t(p.observations_le)}{heard}"
    if p.date_limite_observations is not None:
        return f"attendues jusqu'au {_t(p.date_limite_observations)}"
    return "non notifiées"


def ordre_du_jour_html(seance: Seance) -> str:
    rows = "".join(
        f"<tr><td>{i}</td><td>{_t(p.numero_dossier)}</td><td>{_t(p.saisine)}</td>"
        f"<td>{_t(_MOTIFS.get(p.motif_saisine.value, p.motif_saisine.value))}</td>"
        f"<td>{_t(p.manquement)}</td><td>{_t(p.date_manquement)}</td>"
        f"<td>{_observations(p)}</td></tr>"
        for i, p in enumerate(seance.points, 1)
    )
    table = (
        "<table><thead><tr><th>Point</th><th>Dossier</th><th>Saisine</th><th>Motif</th>"
        "<th>Objet</th><th>Manquement le</th><th>Observations</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return _page(f"Ordre du jour — séance {seance.session.session_id}", _entete(seance) + table)


def _avis(p: Point) -> str:
    if p.avis is None:
        return "—"
    terms = ""
    if p.avis_pourcentage is not None:
        terms += f" {p.avis_pourcentage} %"
    if p.avis_duree_mois is not None:
        terms += f" pendant {p.avis_duree_mois} mois"
    return _t(p.avis.value + terms)


def proces_verbal_html(seance: Seance) -> str:
    rows = "".join(
        f"<tr><td>{i}</td><td>{_t(p.numero_dossier)}</td><td>{_t(p.saisine)}</td>"
        f"<td>{_t(_MOTIFS.get(p.motif_saisine.value, p.motif_saisine.value))}</td>"
        f"<td>{_observations(p)}</td><td>{_avis(p)}</td>"
        f"<td>{_t(p.decision)}</td><td>{_t(p.decision_le)}</td></tr>"
        for i, p in enumerate(seance.points, 1)
    )
    table = (
        "<table><thead><tr><th>Point</th><th>Dossier</th><th>Saisine</th><th>Motif</th>"
        "<th>Observations</th><th>Avis de l'EP</th><th>Décision du président</th>"
        f"<th>Décidée le</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    return _page(f"Procès-verbal — séance {seance.session.session_id}", _entete(seance) + table)
