"""`parcours flux import FILE…`: import CAF/MSA flux files with a progress bar, print each
report; `parcours flux rapport ID` prints a kept report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from api.cli.conventions import EXIT_PROBLEM, UserError, add_json, print_json

if TYPE_CHECKING:
    from adapters.flux.reports import Rapport
    from adapters.settings import Settings
    from api.cli.types import Subcommands


def _bar(name: str) -> Callable[[int], Callable[[int], None]]:
    def start(total: int) -> Callable[[int], None]:
        from tqdm import tqdm  # type: ignore[import-untyped]

        bar = tqdm(total=total, desc=name, unit="foyer", leave=True, file=sys.stderr)

        def advance(n: int) -> None:
            bar.update(n)
            if bar.n >= total:
                bar.close()

        return advance

    return start


def _print(rapport: Rapport) -> None:
    print(f"{rapport.fichier}: {rapport.statut} (rapport {rapport.id})")
    if rapport.statut != "rejete":
        print(
            f"  foyers {rapport.foyers}: importés {rapport.foyers_importes}, inchangés "
            f"{rapport.foyers_inchanges}, rejetés {rapport.foyers_rejetes}; dossiers créés "
            f"{rapport.dossiers_crees}; personnes non suivies {rapport.personnes_non_suivies}"
        )
        detail = ", ".join(f"{k} {v}" for k, v in sorted(rapport.evenements.items()))
        print(f"  événements {rapport.evenements_total}" + (f" ({detail})" if detail else ""))
    for rejet in rapport.rejets:
        where = f"foyer {rejet.foyer}, " if rejet.foyer else ""
        print(f"  rejet: {where}ligne {rejet.ligne}: {rejet.motif}")


def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services.flux_import import FluxImporter

    unreadable = [name for name in args.files if not Path(name).is_file()]
    if unreadable:
        raise UserError(f"fichier introuvable: {', '.join(unreadable)}")
    app = Parcours(settings)
    importer = FluxImporter(app, orientation_auto=args.orientation_auto)
    refused = 0
    rapports = []
    for name in args.files:
        path = Path(name)
        rapport = importer.import_file(path, progress=_bar(path.name))
        refused += rapport.statut == "rejete"
        rapports.append(rapport)
        if not args.json:
            _print(rapport)
    app.close()
    if args.json:
        print_json(rapports)
    if refused:
        sys.exit(EXIT_PROBLEM)


def cmd_report(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from adapters.flux.reports import ReportStore

    try:
        wanted = UUID(args.id)
    except ValueError:
        raise UserError(f"identifiant d'import invalide: {args.id!r}") from None
    rapport = ReportStore(settings).get(wanted)
    if rapport is None:
        raise UserError(f"aucun import {args.id}")
    if args.json:
        print_json(rapport)
        return
    print(msgspec.json.format(msgspec.json.encode(rapport)).decode())


def register(sub: Subcommands) -> None:
    flux = sub.add_parser("flux", help="flux bénéficiaires CAF/MSA")
    actions = flux.add_subparsers(dest="flux_command", required=True)
    p = actions.add_parser("import", help="importer des fichiers de flux (XML vrsb0801)")
    p.add_argument("files", nargs="+", metavar="FICHIER")
    p.add_argument(
        "--orientation-auto", action="store_true", help="orientation automatique à l'entrée"
    )
    add_json(p, "les rapports")
    p.set_defaults(func=cmd_import)
    p = actions.add_parser("rapport", help="afficher le rapport d'un import")
    p.add_argument("id")
    add_json(p, "le rapport (sur une ligne)")
    p.set_defaults(func=cmd_report)
