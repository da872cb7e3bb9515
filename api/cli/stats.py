"""`parcours stats …`: the délais indicators and worklists as readable tables, CSV, charts."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli.audit import moment
from api.cli.conventions import (
    UserError,
    add_json,
    add_output,
    option,
    outputs,
    print_json,
    write_csv,
)
from api.services.statistic_families import FAMILLES
from projections.ventilations import VENTILATIONS

if TYPE_CHECKING:
    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings
    from api.cli.types import Subcommands
    from api.services.statistics import Ecarts, Statistiques
    from projections.indicateurs import Periode, Tableau


def _cell(value: Any) -> str:
    from adapters.render.csv import cell

    return cell(value, "—")


def readable(tableau: Tableau) -> str:
    """Indicators down the side, one column per group: fits a terminal however long the
    French labels are."""
    par = tableau.ventilation
    measures = [c for c in tableau.colonnes if c.nom != par]
    heads = [_cell(line.get(par)) if par else "ensemble" for line in tableau.lignes]
    if tableau.indicateur == "aave":
        heads = [str(line["structure"]) for line in tableau.lignes]
        measures = [c for c in measures if c.nom != "structure"]
    width = max((len(c.libelle) for c in measures), default=10)
    cols = [max(len(h), 8) for h in heads]
    out = [
        f"{tableau.libelle} — du {tableau.du} au {tableau.au}"
        + (f" (règles: {', '.join(tableau.regles)})" if tableau.regles else ""),
        "",
        " " * width + "  " + "  ".join(h.rjust(w) for h, w in zip(heads, cols, strict=True)),
    ]
    for c in measures:
        values = [_cell(line.get(c.nom)) for line in tableau.lignes]
        out.append(
            c.libelle.ljust(width)
            + "  "
            + "  ".join(v.rjust(w) for v, w in zip(values, cols, strict=True))
        )
    return "\n".join(out)


def _print_differences(result: Ecarts) -> None:
    print(readable(result.avant))
    print(f"\nTel que connu le {result.known_at.isoformat()}; aujourd'hui:\n")
    print(readable(result.maintenant))
    print(f"\n{len(result.ecarts)} cellule(s) différente(s):")
    for e in result.ecarts:
        where = "" if e.groupe is None else f" [{_cell(e.groupe)}]"
        print(f"  {e.libelle}{where}: {_cell(e.avant)} → {_cell(e.maintenant)}")
    print(f"{result.total_dossiers} dossier(s) modifié(s) depuis:")
    for change in result.dossiers:
        print(f"  {change.case_id}  {change.change}")
        for ev in change.events:
            print(
                f"      v{ev.version} {ev.type} du {ev.effective_on}, "
                f"saisi le {ev.recorded_at:%Y-%m-%d %H:%M} par {ev.recorded_by}"
                + (f" ({ev.motif})" if ev.motif else "")
            )


def _period(args: argparse.Namespace) -> Periode:
    from projections.indicateurs import Periode, annee

    if args.annee is not None:
        return annee(args.annee)
    if args.du is None or args.au is None:
        raise UserError("préciser --annee, ou --du et --au.")
    if args.au < args.du:
        raise UserError(f"--au ({args.au}) précède --du ({args.du}).")
    return Periode(args.du, args.au)


def _stats(settings: Settings, args: argparse.Namespace) -> tuple[Parcours, Statistiques]:
    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector
    from api.services.statistics import Statistiques

    app = Parcours(settings)
    Projector(app).catch_up()
    stats = Statistiques(app)
    if args.regles is not None and args.regles not in stats.reglement.noms:
        raise UserError(f"règles inconnues {args.regles!r}: {', '.join(stats.reglement.noms)}.")
    return app, stats


def _run(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.render.csv import table_csv, worklist_csv
    from projections.worklists import trier

    files = (
        outputs(args, "csv") if args.famille == "a-traiter" else outputs(args, "csv", "png", "svg")
    )
    app, stats = _stats(settings, args)
    try:
        if args.famille == "a-traiter":
            today = args.date or app.today()
            lines = trier(
                stats.worklist(today, args.structure, args.referent, args.regles), "-jours"
            )
            for path in files:
                write_csv(path, worklist_csv(lines))
            if args.json:
                print_json(lines[: args.limite])
                return
            for a in lines[: args.limite]:
                print(f"{a.jours:>5} j  {a.libelle:<42} {a.case_id}  {a.detail}")
            print(f"{len(lines)} ligne(s) au {today}.")
            return
        periode = _period(args)
        structures = args.structure and [args.structure]
        if args.ecarts:
            if args.known_at is None:
                raise UserError("--ecarts compare le tableau connu à --connu-le avec aujourd'hui.")
            ecarts = stats.ecarts(
                args.famille,
                periode,
                args.known_at,
                args.par,
                args.regles,
                structures,
                args.commune,
                args.as_of,
            )
            if args.json:
                print_json(ecarts)
            else:
                _print_differences(ecarts)
            return
        tableau = stats.calculer(
            args.famille,
            periode,
            args.par,
            args.regles,
            structures=structures,
            communes=args.commune,
            known_at=args.known_at,
            as_of=args.as_of,
        )
        if args.json:
            print_json(tableau)
        else:
            print(readable(tableau))
        for path, kind in files.items():
            if kind == "csv":
                write_csv(path, table_csv(tableau))
                if not args.json:
                    print(f"CSV écrit: {path}")
        for path, kind in files.items():
            if kind == "csv":
                continue
            from adapters.render.charts import delays_chart

            monthly = stats.calculer(
                "taux",
                periode,
                "mois",
                args.regles,
                communes=args.commune,
                known_at=args.known_at,
                as_of=args.as_of,
            )
            where = ", ".join(args.commune) if args.commune else "tout le département"
            title = f"Délais mois par mois, {where}"
            image = delays_chart(monthly, title, "svg" if kind == "svg" else "png")
            Path(path).write_bytes(image)
            if not args.json:
                print(f"Graphique écrit: {path}")
    finally:
        app.close()


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "stats",
        help="indicateurs de délais (tableau 3.1, DREES, taux, AAVE…) et listes de travail",
    )
    p.add_argument("famille", choices=[*FAMILLES, "a-traiter"])
    p.add_argument("--annee", type=int, help="l'année (ou --du et --au)")
    p.add_argument("--du", type=date.fromisoformat, help="premier jour (AAAA-MM-JJ)")
    p.add_argument("--au", type=date.fromisoformat, help="dernier jour (AAAA-MM-JJ)")
    p.add_argument("--par", choices=VENTILATIONS, help="ventilation des lignes")
    p.add_argument("--regles", help="relire sous un jeu de règles nommé")
    p.add_argument("--commune", action="append", help="limiter à une commune (répétable)")
    p.add_argument("--structure", help="une structure (AAVE, liste de travail)")
    p.add_argument("--referent", help="un référent (liste de travail)")
    p.add_argument("--date", type=date.fromisoformat, help="date du jour (liste de travail)")
    p.add_argument("--limite", type=int, default=50, help="lignes affichées (liste de travail)")
    option(
        p,
        "--connu-le",
        "--known-at",
        dest="known_at",
        type=moment,
        help="le tableau tel que connu à cet instant (ISO 8601)",
    )
    option(
        p,
        "--au-jour",
        "--as-of",
        dest="as_of",
        type=date.fromisoformat,
        help="seuls les faits en effet à cette date",
    )
    p.add_argument(
        "--ecarts",
        action="store_true",
        help="comparer le tableau connu à --connu-le avec aujourd'hui (cellules, dossiers)",
    )
    add_output(
        p,
        "écrire aussi le tableau (.csv) ou le graphique des délais mensuels (.png, .svg);"
        " répétable",
        "--csv",
        "--graphique",
        append=True,
    )
    add_json(p, "le tableau")
    p.set_defaults(func=_run)
