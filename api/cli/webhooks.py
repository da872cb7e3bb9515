"""`parcours webhooks`: run the deliverer of partners' subscriptions, list them with where
their deliveries stand, replay from a log position, send a test message."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from api.cli.conventions import EXIT_PROBLEM, UserError, add_json, option, print_json

if TYPE_CHECKING:
    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings
    from api.cli.types import Subcommands


def cmd_deliver(settings: Settings, args: argparse.Namespace) -> None:
    """Deliver until SIGTERM or SIGINT (the batch under way is sent again at the next start)."""
    import asyncio
    import signal

    import structlog

    from adapters.eventlog.store import Parcours
    from adapters.webhooks.deliverer import Deliverer, Policy

    app = Parcours(settings)
    deliverer = Deliverer(app, Policy.from_env())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        structlog.get_logger("cli").info("webhooks.deliverer_started", store=settings.store)
        await deliverer.run(stop)

    try:
        asyncio.run(main())
    finally:
        app.close()


def cmd_list(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services import subscriptions as service

    app = Parcours(settings)
    try:
        listed = [(a, service.status(app, a.abonnement_id)) for a in service.register(app).all()]
        if args.json:
            print_json([{"abonnement": a, "etat": etat} for a, etat in listed])
            return
        for a, etat in listed:
            structures = "toutes" if a.structures is None else " ".join(a.structures)
            print(
                f"{a.abonnement_id} {'actif' if a.actif else 'supprimé'} {a.url} "
                f"[{' '.join(a.types)}] structures: {structures}; position {etat.position}, "
                f"retard {etat.retard_evenements} ({etat.retard_secondes:.0f} s), "
                f"livrées {etat.livrees}, échecs {etat.echecs}, rebuts {etat.rebuts}"
            )
    finally:
        app.close()


def _ids(app: Parcours, args: argparse.Namespace) -> list[str]:
    from api.services import subscriptions as service

    if args.abonnement:
        return [args.abonnement]
    return [a.abonnement_id for a in service.register(app).actifs()]


def cmd_replay(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services import subscriptions as service
    from domain.errors import DomainError

    app = Parcours(settings)
    try:
        for i in _ids(app, args):
            service.replay(app, i, args.depuis)
            print(f"{i}: renvoi de tout ce qui suit la position {args.depuis}")
    except DomainError as e:
        raise UserError(f"{e.field}: {e.detail}") from None
    finally:
        app.close()


def cmd_test(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from adapters.webhooks.deliverer import send_test
    from api.services import subscriptions as service
    from domain.errors import DomainError

    app = Parcours(settings)
    try:
        failed = False
        for i in _ids(app, args):
            msg_id, answer = send_test(app, service.find(app, i))
            print(f"{i}: {msg_id} → {answer}")
            failed = failed or not answer.startswith("HTTP 2")
    except DomainError as e:
        raise UserError(f"{e.field}: {e.detail}") from None
    finally:
        app.close()
    if failed:
        sys.exit(EXIT_PROBLEM)


def register(sub: Subcommands) -> None:
    group = sub.add_parser("webhooks", help="abonnements des partenaires: livrer, lister, rejouer")
    cmds = group.add_subparsers(dest="webhooks_command", required=True)

    p = cmds.add_parser("deliver", help="livrer les événements aux abonnés (processus à part)")
    p.set_defaults(func=cmd_deliver)

    p = cmds.add_parser("list", help="les abonnements et où en sont leurs livraisons")
    add_json(p, "les abonnements et leur état")
    p.set_defaults(func=cmd_list)

    p = cmds.add_parser("replay", help="renvoyer tout ce qui suit une position du journal")
    option(p, "--depuis", "--from", type=int, required=True, help="position du journal")
    p.add_argument("--abonnement", help="un abonnement (défaut: tous les actifs)")
    p.set_defaults(func=cmd_replay)

    p = cmds.add_parser("test", help="envoyer un message de test signé")
    p.add_argument("--abonnement", help="un abonnement (défaut: tous les actifs)")
    p.set_defaults(func=cmd_test)
