"""`parcours finance …`: simulate a schedule over a past period (table, CSV, chart), adopt a
schedule, declare a structure, draw up or issue a partner's statement."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from api.cli.conventions import (
    UserError,
    add_json,
    add_output,
    option,
    outputs,
    print_json,
    write_csv,
)
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
        raise UserError(f"--periode: {e}") from None


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
        raise UserError(f"barème invalide: {e}") from None
    except OSError as e:
        raise UserError(f"barème illisible: {e}") from None


def _simulate(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.render.csv import simulation_csv
    from adapters.render.text import simulation_table

    files = outputs(args, "csv", "png", "svg")
    bareme = _schedule(args.bareme)
    periode = _period(args.periode)
    app, finance = _open(settings)
    try:
        sim = finance.simulate(bareme, periode)
    finally:
        app.close()
    say = (lambda _: None) if args.json else print
    if args.json:
        print_json(sim)
    else:
        print(simulation_table(sim, args.lignes))
    for path, kind in files.items():
        if kind == "csv":
            write_csv(path, simulation_csv(sim))
            say(f"CSV écrit: {path}")
            continue
        from adapters.render.charts import financing_chart

        Path(path).write_bytes(financing_chart(sim, "svg" if kind == "svg" else "png"))
        say(f"Graphique écrit: {path}")


def _author(args: argparse.Namespace) -> Author:
    from api.services.commands import Author

    return Author(user=args.auteur, request_id=f"cli-{date.today().isoformat()}")


def _adopt(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services.schedules import adopt
    from domain.errors import DomainError

    bareme = _schedule(args.bareme)
    app = Parcours(settings)
    try:
        adopted = adopt(app, bareme, args.motif, _author(args))
    except DomainError as e:
        raise UserError(f"{e.field}: {e.detail}") from None
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
        raise UserError(f"{e.field}: {e.detail}") from None
    finally:
        app.close()
    print(f"Structure {args.id} déclarée (déclaration n°{version}).")


def _statement(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.render.csv import etat_csv, euros
    from domain.errors import DomainError

    files = outputs(args, "csv")
    _period(args.period)
    app, finance = _open(settings)
    try:
        if args.emettre:
            etat = finance.issue(args.partner, args.period, _author(args))
        else:
            etat = finance.statement(args.partner, args.period)
    except DomainError as e:
        raise UserError(f"{e.field}: {e.detail}") from None
    finally:
        app.close()
    for path in files:
        write_csv(path, etat_csv(etat))
    if args.json:
        print_json(etat)
        return
    print(
        f"État {etat.id} ({etat.statut}): {len(etat.lignes)} ligne(s) {euros(etat.total_lignes)} €, "
        f"{len(etat.ajustements)} ajustement(s) {euros(etat.total_ajustements)} €, "
        f"total {euros(etat.total)} €"
    )
    for path in files:
        print(f"CSV écrit: {path}")


def register(sub: Subcommands) -> None:
    p = sub.add_parser("finance", help="financement des partenaires: barèmes, simulations, états")
    fsub = p.add_subparsers(dest="action", required=True)

    s = fsub.add_parser(
        "simulate", help="rejouer une période passée sous un barème, sans rien écrire"
    )
    option(s, "--bareme", "--schedule", required=True, help="fichier du barème (TOML ou JSON)")
    option(s, "--periode", "--period", required=True, help="AAAA, AAAA-Tn ou AAAA-MM")
    add_output(
        s,
        "écrire aussi les écarts (.csv) ou le graphique des totaux par partenaire (.png, .svg);"
        " répétable",
        "--csv",
        "--chart",
        append=True,
    )
    option(s, "--lignes", "--lines", type=int, default=20, help="lignes modifiées affichées")
    add_json(s, "la simulation")
    s.set_defaults(func=_simulate)

    a = fsub.add_parser("adopt", help="adopter un barème à partir de sa date d'effet")
    option(a, "--bareme", "--schedule", required=True, help="fichier du barème (TOML ou JSON)")
    a.add_argument("--motif", required=True)
    option(a, "--auteur", "--by", default=AUTHOR, help="qui adopte (auteur enregistré)")
    a.set_defaults(func=_adopt)

    d = fsub.add_parser("structure", help="déclarer une structure (type, ETP) à partir d'une date")
    d.add_argument("id")
    d.add_argument("--nom", required=True)
    d.add_argument("--type", required=True, choices=[t.value for t in TypeOrganisme])
    d.add_argument("--etp", type=float)
    d.add_argument("--depuis", type=date.fromisoformat, required=True)
    option(d, "--auteur", "--by", default=AUTHOR, help="qui déclare (auteur enregistré)")
    d.set_defaults(func=_structure)

    e = fsub.add_parser("statement", help="l'état d'un partenaire pour une période")
    e.add_argument("partner")
    e.add_argument("period", help="AAAA, AAAA-Tn ou AAAA-MM")
    option(e, "--emettre", "--issue", action="store_true", help="émettre l'état")
    add_output(e, "écrire l'état en CSV dans ce fichier (.csv)", "--csv", append=True)
    option(e, "--auteur", "--by", default=AUTHOR, help="qui émet (auteur enregistré)")
    add_json(e, "l'état")
    e.set_defaults(func=_statement)
