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
from api.cli import cohort as cli_cohort
from api.cli import finance as cli_finance
from api.cli import flux as cli_flux
from api.cli import identities as cli_identities
from api.cli import stats as cli_stats
from api.cli import webhooks as cli_webhooks
from api.cli.types import Subcommands

if TYPE_CHECKING:
    from types import FrameType

    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings

# Each command imports what it runs when it runs (docs/architecture.md, "The command line"):
# `parcours --help` and the light commands load neither the web stack nor the store.


def _serve(settings: Settings, parcours: Parcours | None, run_projector: bool) -> None:
    import uvicorn

    from api.http.app import create_app

    app = create_app(settings, parcours, run_projector=run_projector)
    uvicorn.run(
        app, host=settings.api_host, port=settings.api_port, log_config=None, access_log=False
    )


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    _serve(settings, None, run_projector=args.with_projector)


def cmd_project(settings: Settings, args: argparse.Namespace) -> None:
    import signal
    import threading

    import structlog

    from adapters.eventlog.store import Parcours
    from adapters.readmodels.projector import Projector
    from api.services.connectors_rdvi import RdviConnector

    app = Parcours(settings)
    projector = Projector(app)
    connector = RdviConnector(app) if settings.rdvi_secrets else None
    if args.once:
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
        sys.exit(1)


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
    from adapters.synthetic import load

    app = Parcours(settings)
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
        print("Jeton de développement: parcours token --sub moi --role orientation --role auditeur")
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
]
"""Each user group's commands (`parcours stats`, `parcours flux`…) register themselves here:
a module `api/cli_<group>.py` with `register(sub)`, listed once."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="parcours", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for register in EXTENSIONS:
        register(sub)

    p = sub.add_parser("demo", help="département synthétique + API (stockage SQLite par défaut)")
    p.add_argument("--people", type=int, default=2000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--start", type=int, default=2022, help="année de début")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="servir l'API")
    p.add_argument(
        "--with-projector", action="store_true", help="tenir la projection à jour dans ce processus"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("project", help="tenir les projections à jour (worker)")
    p.add_argument("--once", action="store_true", help="rattraper le journal puis s'arrêter")
    p.set_defaults(func=cmd_project)

    p = sub.add_parser("status", help="positions du journal et de la projection")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("rebuild", help="reconstruire les projections depuis le journal")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("generate", help="écrire un département synthétique dans le journal")
    p.add_argument("--people", type=int, default=10000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--start", type=int, default=2022)
    p.set_defaults(func=cmd_generate)

    args = parser.parse_args(argv)
    from adapters.logging import configure_logging
    from adapters.settings import Settings, ensure_postgres_database, refuse_unsafe_start

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    refuse_unsafe_start(settings)
    if settings.store == "postgres":
        import psycopg

        try:
            ensure_postgres_database(settings)
        except psycopg.OperationalError as e:
            # The store is unreachable: exit status 3, one line, no traceback.
            reason = (str(e).splitlines() or [type(e).__name__])[0]
            print(f"parcours: PostgreSQL injoignable: {reason}", file=sys.stderr)
            raise SystemExit(3) from None
    args.func(settings, args)


if __name__ == "__main__":
    main()
