"""`parcours identites indexer`: index for the search the identities stored before the search
index existed (the server also does it at start); idempotent, prints how many."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from api.cli.types import Subcommands

if TYPE_CHECKING:
    from adapters.settings import Settings


def cmd_index(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.identity import IdentityStore

    count = IdentityStore(settings).index_missing()
    print(f"{count} identité{'s' if count > 1 else ''} indexée{'s' if count > 1 else ''}")


def register(sub: Subcommands) -> None:
    identites = sub.add_parser("identites", help="identités des personnes (coffre chiffré)")
    actions = identites.add_subparsers(dest="identites_command", required=True)
    p = actions.add_parser(
        "indexer", help="indexer pour la recherche les identités qui ne le sont pas encore"
    )
    p.set_defaults(func=cmd_index)
