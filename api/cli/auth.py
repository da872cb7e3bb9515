"""`parcours token`: a signed token for development (local mode only; in production the
département's identity provider issues them)."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from api.cli.conventions import option
from domain.vocabulary import RoleAgent

if TYPE_CHECKING:
    from adapters.settings import Settings
    from api.cli.types import Subcommands


def cmd_token(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.tokens import sign_local

    now = int(time.time())
    claims = {
        "sub": args.agent,
        "roles": [RoleAgent(r).value for r in args.role],
        "structures": args.structure,
        "iat": now,
        "exp": now + args.heures * 3600,
    }
    print(sign_local(settings, claims))


def register(sub: Subcommands) -> None:
    p = sub.add_parser("token", help="jeton de développement (mode local seulement)")
    option(p, "--agent", "--sub", required=True, help="identifiant de l'agent (sub du jeton)")
    p.add_argument(
        "--role", action="append", required=True, choices=[r.value for r in RoleAgent], default=[]
    )
    p.add_argument("--structure", action="append", default=[], help="structure d'un agent")
    option(p, "--heures", "--hours", type=int, default=8, help="durée de validité en heures")
    p.set_defaults(func=cmd_token)
