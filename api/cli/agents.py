"""`parcours droits`: grant or revoke an agent's rights from the command line, as `POST
/admin/agents` does; in oidc mode, the way the first administrator is named (no one holds the
`admin` role before the registry says so)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from api.cli.conventions import UserError, add_json, option, print_json
from domain.vocabulary import RoleAgent

if TYPE_CHECKING:
    from adapters.eventlog.store import Parcours
    from adapters.settings import Settings
    from api.cli.types import Subcommands
    from api.services.commands import Author
    from domain.agents import Droit


def _run(
    settings: Settings, write: Callable[[Parcours], list[Droit]], as_json: bool = False
) -> None:
    from adapters.eventlog.store import Parcours
    from domain.errors import DomainError

    app = Parcours(settings)
    try:
        droits = write(app)
    except DomainError as e:
        raise UserError(f"{e.field}: {e.detail}") from None
    finally:
        app.close()
    if as_json:
        print_json(droits)
        return
    for d in droits:
        state = "retiré" if d.retrait else "accordé"
        print(f"{d.droit_id} {state}: {d.role.value} à {d.agent} {' '.join(d.structures)}")


def _author(args: argparse.Namespace) -> Author:
    from api.services.commands import Author

    return Author(user=args.auteur, request_id=f"cli-{date.today().isoformat()}")


def cmd_grant(settings: Settings, args: argparse.Namespace) -> None:
    from api.services.agents import grant

    _run(
        settings,
        lambda app: [
            grant(
                app,
                agent=args.agent,
                role=RoleAgent(args.role),
                structures=args.structure,
                du=args.du or app.today(),
                au=args.au,
                motif=args.motif,
                author=_author(args),
            )
        ],
        args.json,
    )


def cmd_revoke(settings: Settings, args: argparse.Namespace) -> None:
    from api.services.agents import revoke

    role = RoleAgent(args.role) if args.role else None
    _run(
        settings,
        lambda app: revoke(
            app,
            droit_id=args.droit,
            agent=args.agent,
            role=role,
            motif=args.motif,
            author=_author(args),
        ),
        args.json,
    )


def register(sub: Subcommands) -> None:
    group = sub.add_parser("droits", help="registre des droits des agents: accorder, retirer")
    cmds = group.add_subparsers(dest="droits_command", required=True)
    roles = [r.value for r in RoleAgent]

    p = cmds.add_parser("accorder", help="accorder un rôle (et des structures) à un agent")
    p.add_argument("--agent", required=True, help="sub OIDC ou e-mail de la personne")
    p.add_argument("--role", required=True, choices=roles)
    p.add_argument("--structure", action="append", default=[], help="structure (rôle agent)")
    p.add_argument("--du", type=date.fromisoformat, help="premier jour (défaut: aujourd'hui)")
    p.add_argument("--au", type=date.fromisoformat, help="dernier jour (défaut: sans fin)")
    p.add_argument("--motif", required=True)
    option(p, "--auteur", "--by", default="cli", help="qui accorde (auteur enregistré)")
    add_json(p, "le droit accordé")
    p.set_defaults(func=cmd_grant)

    p = cmds.add_parser("retirer", help="retirer un droit, ou ceux d'un agent pour un rôle")
    p.add_argument("--droit", help="identifiant du droit (droit-3)")
    p.add_argument("--agent")
    p.add_argument("--role", choices=roles)
    p.add_argument("--motif", required=True)
    option(p, "--auteur", "--by", default="cli", help="qui retire (auteur enregistré)")
    add_json(p, "les droits retirés")
    p.set_defaults(func=cmd_revoke)
