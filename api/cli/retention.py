"""`parcours retention run [--json] [--a-blanc]`: the daily retention job (docs/ops/retention.md):
identities past their retention period erased, the access log and the rdv-insertion inbox
purged; `--a-blanc` lists without erasing."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.settings import Settings
    from api.cli.types import Subcommands


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import STORE_ERRORS, Parcours
    from api.cli.backup import refuse, unreachable
    from api.services.retention_run import run

    if args.jours is not None and args.jours < 1:
        refuse("--jours : un nombre de jours positif est attendu")
    try:
        app = Parcours(settings)
        report = run(app, a_blanc=args.a_blanc, days=args.jours)
    except STORE_ERRORS as e:
        unreachable(settings, e)
    app.close()
    if args.json:
        import msgspec

        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
        return
    verb = "à effacer" if report.a_blanc else "effacées"
    print(
        f"Identités {verb} (parcours terminé depuis {report.jours_conservation} jours ou plus, "
        f"au {report.jour.isoformat()}) : {len(report.identites)}"
    )
    for due in report.identites:
        print(
            f"  {due.case_id}  fin du parcours {due.fin_parcours}  effaçable le {due.effacable_le}"
        )
    if report.ecartes:
        print(
            f"Écartées ({len(report.ecartes)}) : le journal ne confirme pas la fin du parcours "
            "(projection en retard ou dossier en quarantaine)"
        )
        for case_id in report.ecartes:
            print(f"  {case_id}")
    if report.sans_date:
        print(
            f"{len(report.sans_date)} dossier(s) clos sans date de fin dans la projection : "
            "lancer parcours rebuild"
        )
    accesses = "à effacer" if report.a_blanc else "effacés"
    print(
        f"Accès antérieurs au {report.acces_avant:%Y-%m-%d %H:%M} UTC {accesses} : "
        f"{report.acces_purges}"
    )
    if report.livraisons_rdvi_purgees is not None:
        print(f"Livraisons rdv-insertion purgées : {report.livraisons_rdvi_purgees}")


def register(sub: Subcommands) -> None:
    group = sub.add_parser(
        "retention", help="conservation des données personnelles (tâche planifiée)"
    )
    cmds = group.add_subparsers(dest="retention_command", required=True)
    p = cmds.add_parser(
        "run",
        help="effacer les identités en fin de conservation, purger journal d'accès et boîte "
        "rdv-insertion",
        description="Efface les identités dont le parcours s'est terminé (sortie ou clôture) "
        "depuis PARCOURS_IDENTITY_RETENTION_DAYS jours (730 par défaut), purge le journal "
        "d'accès (1 an) et les livraisons rdv-insertion (PARCOURS_RDVI_RETENTION_DAYS). "
        "Idempotent (docs/ops/retention.md).",
    )
    p.add_argument("--json", action="store_true", help="le rapport en JSON")
    p.add_argument("--a-blanc", action="store_true", help="lister sans rien effacer ni purger")
    p.add_argument(
        "--jours",
        type=int,
        default=None,
        help="durée de conservation en jours (défaut : PARCOURS_IDENTITY_RETENTION_DAYS)",
    )
    p.set_defaults(func=cmd_run)
