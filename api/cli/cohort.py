"""`parcours cohort …`: define cohorts, extract their paths, draw their curves, list transitions."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.render.extract_formats import Format
from api.cli.conventions import (
    UserError,
    add_json,
    add_output,
    option,
    print_json,
    suffix,
    write_csv,
)
from api.services.cohort_options import Cle, Forme
from domain.vocabulary import Sexe, TrancheAge, TypeOrientation
from projections.pseudonym import NiveauCommune

if TYPE_CHECKING:
    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings
    from api.cli.types import Subcommands
    from domain.cohorts import DefinitionCohorte

DEFAULT_DAYS = "0,15,30,60,90,120,180,270,365,540,730"


@contextmanager
def _progress(app: Parcours, enabled: bool) -> Iterator[Callable[[int], None]]:
    from tqdm import tqdm  # type: ignore[import-untyped]

    bar = tqdm(total=app.max_position(), unit=" événements", unit_scale=True, disable=not enabled)
    try:
        yield bar.update
    finally:
        bar.close()


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _definition(app: Parcours, nom: str) -> DefinitionCohorte:
    from api.services.cohorts import load_definition

    definition = load_definition(app, nom)
    if definition is None:
        raise UserError(f"aucune cohorte enregistrée sous le nom {nom!r} (parcours cohort list).")
    return definition


def cmd_define(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services.cohorts import save_definition
    from api.services.commands import Author
    from domain.cohorts import DefinitionCohorte
    from domain.errors import DomainError

    definition = DefinitionCohorte(
        entree_du=args.entree_du,
        entree_au=args.entree_au,
        communes=args.commune or [],
        structures=args.structure or [],
        types_orientation=args.orientation or [],
        tranches_age=args.tranche_age or [],
        sexes=args.sexe or [],
        soumis_droits_devoirs=None if args.soumis is None else args.soumis == "oui",
    )
    app = Parcours(settings)
    try:
        version, created = save_definition(
            app, args.nom, definition, Author(user="cli", request_id=f"cli-cohort-{time.time()}")
        )
    except DomainError as e:
        raise UserError(f"{e.field}: {e.detail}") from None
    finally:
        app.close()
    print(f"Cohorte {args.nom!r} {'créée' if created else 'remplacée'} (version {version}).")


def cmd_list(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from adapters.eventlog.store import Parcours
    from api.services.cohorts import list_definitions

    app = Parcours(settings)
    definitions = list_definitions(app)
    app.close()
    if args.json:
        print_json(definitions)
        return
    for nom, definition in definitions.items():
        print(f"{nom}: {msgspec.json.encode(definition).decode()}")


def cmd_extract(settings: Settings, args: argparse.Namespace) -> None:
    from functools import partial

    from adapters.eventlog.store import Parcours
    from adapters.pseudonym_key import stable_key
    from api.services.cohorts import extract_to, key_for

    out = Path(args.sortie)
    named = out.suffix.lower().lstrip(".")
    fmt = Format(args.format or (named if named in set(Format) else Format.PARQUET))
    app = Parcours(settings)
    try:
        definition = _definition(app, args.nom)
    except UserError:
        app.close()
        raise
    started = time.perf_counter()
    with out.open("wb") as sink, _progress(app, not args.silencieux) as progress:
        bilan = extract_to(
            app,
            definition,
            sink,
            forme=Forme(args.forme),
            fmt=fmt,
            key=key_for(Cle(args.cle), partial(stable_key, settings)),
            communes=NiveauCommune(args.communes),
            progress=progress,
        )
    elapsed = time.perf_counter() - started
    rate = bilan.evenements_lus / max(elapsed, 1e-9)
    print(
        f"{_n(bilan.personnes)} personnes, {_n(bilan.lignes)} lignes écrites dans {out} "
        f"({_n(bilan.evenements_lus)} événements lus en {elapsed:.1f} s, {_n(rate)}/s)"
    )
    app.close()


def _days(raw: str) -> list[int]:
    try:
        days = sorted({int(d) for d in raw.split(",") if d.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("jours: entiers séparés par des virgules") from None
    if not days or days[0] < 0:
        raise argparse.ArgumentTypeError("jours: au moins un entier positif ou nul")
    return days


def cmd_curves(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services.cohorts import analyse

    fmt = args.sortie and suffix(args.sortie, ["png", "svg"])
    app = Parcours(settings)
    try:
        definitions = {nom: _definition(app, nom) for nom in args.noms}
    except UserError:
        app.close()
        raise
    with _progress(app, not args.silencieux) as progress:
        results = analyse(app, definitions, progress)
    cohorts = [results[nom].delais.courbes(nom, args.jours) for nom in args.noms]
    if args.json:
        print_json(cohorts)
    for cohort in [] if args.json else cohorts:
        print(f"{cohort.cohorte}: {cohort.episodes} épisodes")
        print("  jour       " + " ".join(f"{d:>6}" for d in args.jours))
        for courbe in cohort.courbes:
            print(f"  {courbe.jalon:<11}" + " ".join(f"{100 * p:5.1f}%" for p in courbe.parts))
    if args.sortie:
        out = Path(args.sortie)
        from adapters.render.charts import curves_chart  # matplotlib: only when drawing

        daily = range(max(args.jours) + 1)
        drawn = [results[nom].delais.courbes(nom, daily) for nom in args.noms]
        out.write_bytes(curves_chart(drawn, "svg" if fmt == "svg" else "png"))
        if not args.json:
            print(f"Graphique écrit dans {out}")
    app.close()


def cmd_transitions(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from adapters.render.csv import write
    from api.services.cohorts import analyse

    if args.sortie:
        suffix(args.sortie, ["csv"])
    app = Parcours(settings)
    try:
        definitions = {args.nom: _definition(app, args.nom)}
    except UserError:
        app.close()
        raise
    with _progress(app, not args.silencieux) as progress:
        table = analyse(app, definitions, progress)[args.nom].transitions.table()
    if args.sortie:
        header = ["Depuis", "Vers", "Nombre", "Jours (médiane)"]
        rows = [
            [t.depuis, t.vers, str(t.nombre), str(t.jours_median).replace(".", ",")] for t in table
        ]
        write_csv(args.sortie, write(header, rows))
        if not args.json:
            print(f"Table écrite dans {args.sortie}")
    if args.json:
        print_json(table[: args.lignes])
        app.close()
        return
    for t in table[: args.lignes]:
        print(f"{t.depuis:>22} → {t.vers:<22} {t.nombre:>9} {t.jours_median:>7.1f} j")
    app.close()


def _silent(p: argparse.ArgumentParser) -> None:
    option(p, "--silencieux", "--quiet", action="store_true", help="sans barre de progression")


def register(sub: Subcommands) -> None:
    group = sub.add_parser("cohort", help="cohortes d'évaluation: définir, extraire, analyser")
    cmds = group.add_subparsers(dest="cohort_command", required=True)

    p = cmds.add_parser("define", help="enregistrer (ou remplacer) une définition nommée")
    p.add_argument("nom")
    p.add_argument("--entree-du", type=date.fromisoformat, help="AAAA-MM-JJ, inclus")
    p.add_argument("--entree-au", type=date.fromisoformat, help="AAAA-MM-JJ, inclus")
    p.add_argument("--commune", action="append", help="code INSEE (répétable)")
    p.add_argument("--structure", action="append", help="structure de 1re orientation")
    p.add_argument("--orientation", action="append", choices=[t.value for t in TypeOrientation])
    p.add_argument("--tranche-age", action="append", choices=[t.value for t in TrancheAge])
    p.add_argument("--sexe", action="append", choices=[s.value for s in Sexe])
    p.add_argument("--soumis", choices=["oui", "non"], help="soumis aux droits et devoirs")
    p.set_defaults(func=cmd_define)

    p = cmds.add_parser("list", help="les définitions enregistrées")
    add_json(p, "les définitions")
    p.set_defaults(func=cmd_list)

    p = cmds.add_parser("extract", help="extraire les parcours pseudonymisés d'une cohorte")
    p.add_argument("nom")
    add_output(p, "fichier à écrire", required=True)
    p.add_argument("--forme", choices=[f.value for f in Forme], default=Forme.EPISODES.value)
    p.add_argument(
        "--format",
        choices=[f.value for f in Format],
        help="défaut: d'après l'extension de --sortie (.parquet, .csv, .jsonl), sinon parquet",
    )
    p.add_argument("--cle", choices=[c.value for c in Cle], default=Cle.ROTATIVE.value)
    p.add_argument(
        "--communes", choices=[n.value for n in NiveauCommune], default=NiveauCommune.COMMUNE.value
    )
    _silent(p)
    p.set_defaults(func=cmd_extract)

    p = cmds.add_parser("curves", help="courbes de délais d'une ou deux cohortes")
    p.add_argument("noms", nargs="+", metavar="nom")
    p.add_argument("--jours", type=_days, default=_days(DEFAULT_DAYS))
    add_output(p, "graphique .png ou .svg")
    _silent(p)
    add_json(p, "les courbes")
    p.set_defaults(func=cmd_curves)

    p = cmds.add_parser("transitions", help="table des transitions entre étapes")
    p.add_argument("nom")
    add_output(p, "table CSV (.csv)")
    option(p, "--lignes", "--top", type=int, default=20, help="transitions affichées")
    _silent(p)
    add_json(p, "les transitions")
    p.set_defaults(func=cmd_transitions)
