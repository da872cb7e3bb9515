"""The `parcours` command: serve the API, run the projection worker, load a synthetic
département, rebuild read models."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from api.cli import agents as cli_agents
from api.cli import audit as cli_audit
from api.cli import auth as cli_auth
from api.cli import backup as cli_backup
from api.cli import cohort as cli_cohort
from api.cli import ep as cli_ep
from api.cli import finance as cli_finance
from api.cli import flux as cli_flux
from api.cli import identities as cli_identities
from api.cli import migrate as cli_migrate
from api.cli import retention as cli_retention
from api.cli import stats as cli_stats
from api.cli import webhooks as cli_webhooks
from api.cli.conventions import (
    EXIT_PROBLEM,
    EXIT_STORE,
    EXIT_USAGE,
    UserError,
    add_json,
    option,
    print_json,
)
from api.cli.types import Subcommands

if TYPE_CHECKING:
    from types import FrameType

    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings

# Each command imports what it runs when it runs (docs/architecture.md, "The command line"):
# `parcours --help` and the light commands load neither the web stack nor the store.


def _serve(settings: Settings, parcours: Parcours | None, run_projector: bool) -> None:
    import uvicorn

    from adapters.migrations import migrate
    from api.http.app import create_app

    migrate(settings)  # before listening: a database newer than this release stops here

    app = create_app(settings, parcours, run_projector=run_projector)
    uvicorn.run(
        app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    _serve(settings, None, run_projector=args.avec_projection)


def cmd_project(settings: Settings, args: argparse.Namespace) -> None:
    import signal
    import threading

    import structlog

    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector
    from adapters.readmodels.versions import migrate_at_start
    from api.services.connectors_rdvi import RdviConnector

    app = Parcours(settings)
    migrate_at_start(app)  # the schema, then read models whose version changed
    projector = Projector(app)
    connector = RdviConnector(app) if settings.rdvi_secrets else None
    if args.une_fois:
        applied = projector.catch_up()
        print(f"{applied} événements appliqués, position {projector.position()}")
        if connector is not None:
            print(f"{connector.drain()} livraisons rdv-insertion traitées")
        return
    stop = threading.Event()
    inbox = None
    if connector is not None:  # the rdv-insertion inbox, beside the projections
        inbox = threading.Thread(target=connector.run_forever, args=(stop,), daemon=True)
        inbox.start()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    structlog.get_logger("cli").info(
        "projection.worker_started", store=settings.store, position=projector.position()
    )
    projector.run_forever(stop)
    if inbox is not None:
        inbox.join(timeout=10)
    app.close()


def cmd_status(settings: Settings, args: argparse.Namespace) -> None:
    """Positions of the log and of each read model, their quarantined cases: the worker's
    health check, exiting 1 when degraded (as `/health` answers 503)."""
    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector, health

    app = Parcours(settings)
    report = health(Projector(app))
    app.close()
    if args.json:
        print_json(report)
        if report.status != "ok":
            sys.exit(EXIT_PROBLEM)
        return
    for m in report.models:
        print(
            f"{m.name}: journal {report.log_position}, projection {m.position}, retard {m.lag}, "
            f"quarantaine {m.quarantaine_total}"
        )
        for q in m.quarantaine:
            print(
                f"  dossier {q.case_id} en quarantaine depuis la position {q.position} "
                f"({q.event_type}): {q.error}"
            )
    print(f"état: {report.status}")
    for reason in report.reasons:
        print(f"  {reason}")
    if report.status != "ok":
        sys.exit(EXIT_PROBLEM)


def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector

    app = Parcours(settings)
    started = time.perf_counter()
    applied = Projector(app).rebuild()
    elapsed = time.perf_counter() - started
    print(
        f"{applied} événements rejoués en {elapsed:.1f} s ({applied / max(elapsed, 1e-9):,.0f}/s)"
    )


def cmd_generate(settings: Settings, args: argparse.Namespace) -> None:
    from datetime import date

    from adapters.eventlog.store import Parcours
    from adapters.synthetic import load

    app = Parcours(settings)
    started = time.perf_counter()
    written = load(app, args.people, args.years, args.seed, date(args.start, 1, 1), progress=True)
    elapsed = time.perf_counter() - started
    print(f"{written} événements écrits en {elapsed:.1f} s ({written / max(elapsed, 1e-9):,.0f}/s)")


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    """Load a synthetic département once, bring the read model up to date, and serve."""
    from collections import Counter
    from datetime import date

    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector
    from adapters.readmodels.versions import migrate_at_start
    from adapters.synthetic import load

    app = Parcours(settings)
    migrate_at_start(app)
    if app.max_position() == 0:
        print(
            f"Chargement d'un département synthétique: {args.people} personnes sur {args.years} ans…"
        )
        load(app, args.people, args.years, args.seed, date(args.start, 1, 1), progress=True)
    projector = Projector(app)
    projector.catch_up()
    rows = projector.view.all_rows().values()
    statuts = Counter(r.statut.value for r in rows)
    print(
        f"Stockage: {settings.store} ({settings.sqlite_file if settings.store == 'sqlite' else settings.postgres_dbname})"
    )
    print(f"Événements au journal: {app.max_position():,}")
    print(
        f"Dossiers: {len(rows):,} — " + ", ".join(f"{k}: {v:,}" for k, v in sorted(statuts.items()))
    )
    delays = [
        (r.date_premiere_orientation - r.date_entree).days
        for r in rows
        if r.date_premiere_orientation and r.date_entree
    ]
    if delays:
        mean = sum(delays) / len(delays)
        print(f"Délai moyen entrée → orientation: {mean:.0f} jours")
    url = f"http://{settings.api_host}:{settings.api_port}"
    print(f"API: {url}  (documentation: {url}/docs)")
    print(f"Écrans: {url}/ecrans/")
    if settings.auth_mode == "local":
        print(
            "  connexion: choisir une identité de développement (agent-7, agent du CCAS de Créteil…)"
        )
        print(
            "Jeton de développement: parcours token --agent moi --role orientation --role auditeur"
        )
    _serve(settings, app, run_projector=True)


EXTENSIONS: list[Callable[[Subcommands], None]] = [
    cli_flux.register,
    cli_auth.register,
    cli_cohort.register,
    cli_stats.register,
    cli_audit.register,
    cli_finance.register,
    cli_agents.register,
    cli_webhooks.register,
    cli_identities.register,
    cli_backup.register,
    cli_retention.register,
    cli_ep.register,
]
"""Each user group's commands (`parcours stats`, `parcours flux`…) register themselves here:
a module `api/cli_<group>.py` with `register(sub)`, listed once."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("parcours")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "inconnue"


class _Version(argparse.Action):
    """`parcours --version`: the installed package's version, read only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="afficher la version et quitter")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(f"parcours {_version()}")
        parser.exit()


def _store_unreachable(error: BaseException) -> bool:
    """Whether `error` says the store could not be reached (exit 3), not a bug."""
    import sqlite3

    kinds: list[type[BaseException]] = [sqlite3.OperationalError]
    if "psycopg" in sys.modules:
        import psycopg

        kinds += [psycopg.OperationalError, psycopg.InterfaceError]
    if "eventsourcing" in sys.modules:
        from eventsourcing.persistence import InterfaceError, OperationalError

        kinds += [OperationalError, InterfaceError]
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, tuple(kinds)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_store_file(filename: str) -> bool:
    """Whether an unreadable path is the SQLite store's file or a folder on its way."""
    from pathlib import Path

    from adapters.settings import Settings

    settings = Settings.from_env()
    if settings.store != "sqlite":
        return False
    store = Path(settings.sqlite_file).absolute()
    return Path(filename).absolute() in (store, *store.parents)


def _fail(code: int, message: str) -> None:
    print(f"parcours: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Parse, then run the command under the exit codes of api/cli/conventions.py."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _run(args)
    except UserError as e:
        _fail(EXIT_USAGE, str(e))
    except KeyboardInterrupt:
        _fail(130, "interrompu")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as e:
        if e.filename is None:
            raise
        if _is_store_file(str(e.filename)):
            _fail(EXIT_STORE, f"stockage injoignable: {e.filename}: {e.strerror}")
        _fail(EXIT_USAGE, f"fichier {e.filename}: {e.strerror}")
    except Exception as e:
        if "domain.errors" in sys.modules:
            from domain.errors import DomainError

            if isinstance(e, DomainError):
                _fail(EXIT_USAGE, f"{e.field}: {e.detail}")
        if _store_unreachable(e):
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            _fail(EXIT_STORE, f"stockage injoignable: {first}")
        raise


def _run(args: argparse.Namespace) -> None:
    from adapters.logging import configure_logging
    from adapters.settings import Settings, ensure_postgres_database, refuse_unsafe_start

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    refuse_unsafe_start(settings)
    try:
        ensure_postgres_database(settings)
    except Exception as e:
        import psycopg  # loaded already: only PostgreSQL gets here

        if not isinstance(e, psycopg.OperationalError):
            raise
        cli_backup.unreachable(settings, e)  # exit 3, one line, no traceback
    from adapters.migrations import DatabaseTooNew

    try:
        args.func(settings, args)
    except DatabaseTooNew as e:  # a newer release migrated this database: nothing starts
        print(e, file=sys.stderr)
        sys.exit(1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parcours", description=__doc__)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)
    for register in EXTENSIONS:
        register(sub)

    p = sub.add_parser("demo", help="département synthétique + API (stockage SQLite par défaut)")
    _synthetic(p, people=2000)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="servir l'API")
    option(
        p,
        "--avec-projection",
        "--with-projector",
        action="store_true",
        help="tenir la projection à jour dans ce processus",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("project", help="tenir les projections à jour (worker)")
    option(
        p, "--une-fois", "--once", action="store_true", help="rattraper le journal puis s'arrêter"
    )
    p.set_defaults(func=cmd_project)

    p = sub.add_parser("status", help="positions du journal et de la projection")
    add_json(p, "l'état de santé")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "migrate",
        help="migrer la base (schéma, puis projections dont la version a changé, "
        "reconstruites à côté et basculées)",
    )
    add_json(p, "le compte rendu")
    p.set_defaults(func=cli_migrate.cmd_migrate)

    p = sub.add_parser("rebuild", help="reconstruire les projections depuis le journal")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("generate", help="écrire un département synthétique dans le journal")
    _synthetic(p, people=10000)
    p.set_defaults(func=cmd_generate)
    return parser


def _synthetic(p: argparse.ArgumentParser, people: int) -> None:
    option(p, "--personnes", "--people", dest="people", type=int, default=people)
    option(p, "--annees", "--years", dest="years", type=int, default=3)
    option(p, "--graine", "--seed", dest="seed", type=int, default=2024, help="graine du hasard")
    option(p, "--debut", "--start", dest="start", type=int, default=2022, help="année de début")


if __name__ == "__main__":
    main()
