"""`parcours finance …`: simulate a schedule over a past period (table, CSV, chart), adopt a
schedule, declare a structure, draw up or issue a partner's statement."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from domain.vocabulary import TypeOrganisme

if TYPE_CHECKING:
    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings
    from api.cli.types import Subcommands
    from api.services.commands import Author
    from api.services.finance import Finance
    from domain.tariffs import Bareme
    from projections.indicateurs import Periode

AUTHOR = "cli"


def _period(label: str) -> Periode:
    from domain.payments import bornes
    from projections.indicateurs import Periode

    try:
        return Periode(*bornes(label))
    except ValueError as e:
        sys.exit(f"--period: {e}")


def _open(settings: Settings) -> tuple[Parcours, Finance]:
    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector
    from api.services.finance import Finance

    app = Parcours(settings)
    Projector(app).catch_up()
    return app, Finance(app)


def _schedule(path: str) -> Bareme:
    from adapters.schedule_files import read_schedule
    from domain.tariffs import TariffError

    try:
        return read_schedule(Path(path))
    except TariffError as e:
        sys.exit(f"Barème invalide: {e}")
    except OSError as e:
        sys.exit(f"Barème illisible: {e}")


def _simulate(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.render.csv import simulation_csv
    from adapters.render.text import simulation_table

    bareme = _schedule(args.schedule)
    periode = _period(args.period)
    app, finance = _open(settings)
    try:
        sim = finance.simulate(bareme, periode)
    finally:
        app.close()
    print(simulation_table(sim, args.lines))
    if args.csv:
        Path(args.csv).write_text(simulation_csv(sim), encoding="utf-8")
        print(f"CSV écrit: {args.csv}")
    if args.chart:
        from adapters.render.charts import financing_chart

        image = financing_chart(sim, "svg" if args.chart.endswith(".svg") else "png")
        Path(args.chart).write_bytes(image)
        print(f"Graphique écrit: {args.chart}")


def _author(args: argparse.Namespace) -> Author:
    from api.services.commands import Author

    return Author(user=args.by, request_id=f"cli-{date.today().isoformat()}")


def _adopt(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services.schedules import adopt
    from domain.errors import DomainError

    bareme = _schedule(args.schedule)
    app = Parcours(settings)
    try:
        adopted = adopt(app, bareme, args.motif, _author(args))
    except DomainError as e:
        sys.exit(f"{e.field}: {e.detail}")
    finally:
        app.close()
    print(
        f"Barème {bareme.ref} adopté (n°{adopted.version}) à partir du {bareme.du}: {adopted.empreinte}"
    )


def _structure(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services.structures import declare_structure
    from domain.errors import DomainError

    app = Parcours(settings)
    try:
        version, _ = declare_structure(
            app, args.id, args.nom, TypeOrganisme(args.type), args.etp, args.depuis, _author(args)
        )
    except DomainError as e:
        sys.exit(f"{e.field}: {e.detail}")
    finally:
        app.close()
    print(f"Structure {args.id} déclarée (déclaration n°{version}).")


def _statement(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.render.csv import etat_csv, euros
    from domain.errors import DomainError

    _period(args.period)
    app, finance = _open(settings)
    try:
        if args.issue:
            etat = finance.issue(args.partner, args.period, _author(args))
        else:
            etat = finance.statement(args.partner, args.period)
    except DomainError as e:
        sys.exit(f"{e.field}: {e.detail}")
    finally:
        app.close()
    print(
        f"État {etat.id} ({etat.statut}): {len(etat.lignes)} ligne(s) {euros(etat.total_lignes)} €, "
        f"{len(etat.ajustements)} ajustement(s) {euros(etat.total_ajustements)} €, "
        f"total {euros(etat.total)} €"
    )
    if args.csv:
        Path(args.csv).write_text(etat_csv(etat), encoding="utf-8")
        print(f"CSV écrit: {args.csv}")


def register(sub: Subcommands) -> None:
    p = sub.add_parser("finance", help="financement des partenaires: barèmes, simulations, états")
    fsub = p.add_subparsers(dest="action", required=True)

    s = fsub.add_parser(
        "simulate", help="rejouer une période passée sous un barème, sans rien écrire"
    )
    s.add_argument("--schedule", required=True, help="fichier du barème (TOML ou JSON)")
    s.add_argument("--period", required=True, help="AAAA, AAAA-Tn ou AAAA-MM")
    s.add_argument("--csv", help="écrire aussi les écarts en CSV dans ce fichier")
    s.add_argument("--chart", help="écrire le graphique des totaux par partenaire (.png ou .svg)")
    s.add_argument("--lines", type=int, default=20, help="lignes modifiées affichées")
    s.set_defaults(func=_simulate)

    a = fsub.add_parser("adopt", help="adopter un barème à partir de sa date d'effet")
    a.add_argument("--schedule", required=True)
    a.add_argument("--motif", required=True)
    a.add_argument("--by", default=AUTHOR, help="qui adopte (auteur enregistré)")
    a.set_defaults(func=_adopt)

    d = fsub.add_parser("structure", help="déclarer une structure (type, ETP) à partir d'une date")
    d.add_argument("id")
    d.add_argument("--nom", required=True)
    d.add_argument("--type", required=True, choices=[t.value for t in TypeOrganisme])
    d.add_argument("--etp", type=float)
    d.add_argument("--depuis", type=date.fromisoformat, required=True)
    d.add_argument("--by", default=AUTHOR)
    d.set_defaults(func=_structure)

    e = fsub.add_parser("statement", help="l'état d'un partenaire pour une période")
    e.add_argument("partner")
    e.add_argument("period", help="AAAA, AAAA-Tn ou AAAA-MM")
    e.add_argument("--issue", action="store_true", help="émettre l'état")
    e.add_argument("--csv", help="écrire l'état en CSV dans ce fichier")
    e.add_argument("--by", default=AUTHOR)
    e.set_defaults(func=_statement)
