"""The command line's one rule for each thing every command does alike (README, "The command
line"): French flag names (an old English name still parses for one release, hidden from
`--help`), `--sortie FICHIER` for a file written, `--json` on a command that prints data, and
the exit codes below. Light on purpose: the parser imports it before any command runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EXIT_OK = 0
"""The command did what was asked."""
EXIT_PROBLEM = 1
"""The operation ran and found a problem: a verification failed, health is degraded, an import
was rejected, a partner did not answer."""
EXIT_USAGE = 2
"""A user's mistake: a bad argument, an unknown name, an unreadable file (argparse's own errors
exit 2 as well). One French line on stderr, no traceback."""
EXIT_STORE = 3
"""The store (PostgreSQL, the SQLite file) could not be reached."""


class UserError(Exception):
    """A mistake of the person at the keyboard: `main` prints the message, exits 2, and no
    traceback is shown. Raised by handlers before anything is written."""


def option(parser: argparse.ArgumentParser, name: str, *old: str, **kwargs: Any) -> argparse.Action:
    """Register the French flag `name`; each `old` (English) name still parses into the same
    action for one release (required, defaults and appends alike) but is left out of `--help`,
    the usage line and the error messages, which show only `name`."""
    action = parser.add_argument(name, *old, **kwargs)
    action.option_strings = [name]  # parsing goes by the parser's own table of every name
    return action


def add_json(parser: argparse.ArgumentParser, what: str = "les données") -> None:
    parser.add_argument("--json", action="store_true", help=f"imprimer {what} en JSON")


def add_output(
    parser: argparse.ArgumentParser,
    what: str,
    *old: str,
    required: bool = False,
    append: bool = False,
) -> None:
    """The one flag for a file a command writes: `--sortie FICHIER`, its format from the
    extension (unless the command has `--format`); `append`: repeatable, one file per format."""
    if append:
        option(parser, "--sortie", *old, metavar="FICHIER", action="append", help=what)
    else:
        option(parser, "--sortie", *old, metavar="FICHIER", required=required, help=what)


def outputs(args: argparse.Namespace, *allowed: str) -> dict[str, str]:
    """Each file given with a repeatable `--sortie`, with the format its extension names."""
    return {path: suffix(path, allowed) for path in args.sortie or []}


def suffix(path: str, allowed: Iterable[str]) -> str:
    """The output format named by a file's extension, among `allowed`; a user error otherwise."""
    ext = Path(path).suffix.lower().lstrip(".")
    choices = list(allowed)
    if ext not in choices:
        raise UserError(
            f"--sortie {path}: extension .{ext or '?'} inconnue (attendu: "
            + ", ".join(f".{c}" for c in choices)
            + ")"
        )
    return ext


def print_json(data: Any) -> None:
    """Data a command prints with `--json`: one JSON document on stdout (msgspec Structs,
    dates and UUIDs included)."""
    import msgspec

    sys.stdout.write(msgspec.json.encode(data).decode() + "\n")


def write_csv(path: str, text: str) -> None:
    """A CSV file as every CSV parcours hands out: UTF-8 with a BOM, `;` separated."""
    from adapters.render.csv import encoded

    Path(path).write_bytes(encoded(text))
