"""A case's export as one self-contained HTML page an auditor can print or file: the state as
known then, then every event with its two dates, its author and structure, and the corrections
right under the step they correct. Only what the log holds: no name, no NIR."""

from html import escape
from typing import Any

import msgspec

from projections.timeline import CaseExport, StatutEtape, TimelineEntry

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#eee}tr.annulee td{text-decoration:line-through;color:#777}
tr.correction td{background:#fff7e0}td.payload{font-family:monospace;font-size:.8em}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}
"""

_STATUTS = {
    StatutEtape.VALIDE: "valide",
    StatutEtape.RECTIFIEE: "rectifiée",
    StatutEtape.ANNULEE: "annulée",
    StatutEtape.CORRECTION: "correction",
}


def _text(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _row(entry: TimelineEntry, css: str) -> str:
    day = _text(entry.effective_on)
    if entry.effective_on != entry.effective_on_enregistre:
        day += f" <small>(saisie: {_text(entry.effective_on_enregistre)})</small>"
    payload = msgspec.json.encode(entry.event).decode()
    what = _text(entry.type)
    if entry.corrige is not None:
        what += f" de l'étape {entry.corrige}"
    return (
        f'<tr class="{css}"><td>{entry.version}</td><td>{_text(entry.position)}</td>'
        f"<td>{what}</td><td>{day}</td><td>{_text(entry.recorded_at)}</td>"
        f"<td>{_text(entry.recorded_by)}</td><td>{_text(entry.structure_id)}</td>"
        f"<td>{_text(entry.motif)}</td><td>{_STATUTS[entry.statut]}</td>"
        f'<td class="payload">{escape(payload)}</td></tr>'
    )


def render(export: CaseExport) -> str:
    """The export as an HTML document."""
    known = _text(export.known_at) if export.known_at else "maintenant"
    as_of = _text(export.as_of) if export.as_of else "maintenant"
    state = msgspec.to_builtins(export.state) if export.state is not None else {}
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{_text(v)}</dd>" for k, v in state.items())
    corrections = {e.version: e for e in export.timeline if e.statut is StatutEtape.CORRECTION}
    rows: list[str] = []
    for entry in export.timeline:
        if entry.statut is StatutEtape.CORRECTION:
            continue
        rows.append(_row(entry, entry.statut.value))
        for c in entry.corrections:
            if c.version in corrections:
                rows.append(_row(corrections[c.version], "correction"))
    head = (
        "<tr><th>version</th><th>position</th><th>événement</th><th>date d'effet</th>"
        "<th>enregistré le</th><th>par</th><th>structure</th><th>motif</th><th>statut</th>"
        "<th>contenu</th></tr>"
    )
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>Dossier {export.case_id}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Historique du dossier {export.case_id}</h1>"
        f"<dl><dt>connu au</dt><dd>{known}</dd><dt>situation au</dt><dd>{as_of}</dd>"
        f"<dt>position du journal</dt><dd>{export.position}</dd>"
        f"<dt>édité le</dt><dd>{_text(export.generated_at)}</dd>"
        f"<dt>édité par</dt><dd>{_text(export.generated_by)}</dd></dl>"
        f"<h2>État du dossier</h2><dl>{facts or '<dt>—</dt><dd>aucune étape à cette date</dd>'}</dl>"
        f"<h2>Chronologie ({len(export.timeline)} événements)</h2>"
        f"<table>{head}{''.join(rows)}</table>"
        "<p><small>Les corrections ne modifient pas les étapes: elles sont enregistrées à la "
        "suite et figurent sous l'étape qu'elles corrigent.</small></p></body></html>"
    )
