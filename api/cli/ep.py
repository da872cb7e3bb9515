"""`parcours ep …`: the EP procedure and the sanctions from the command line: a person's
situation on a date, the procedure's worklist, the indicators, a session's agenda and minutes."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from api.cli.audit import moment
from api.cli.conventions import add_output, option, suffix

if TYPE_CHECKING:
    from adapters.settings import Settings
    from api.cli.types import Subcommands

MOTIFS = (
    "saisine_sans_seance",
    "avis_sans_decision",
    "observations_attendues",
    "suspension_finissante",
    "remobilisation_a_verifier",
)


def _json(value: object) -> str:
    import msgspec

    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


def cmd_situation(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.reading import case_history
    from adapters.eventlog.store import Parcours
    from api.services import sanctions

    try:
        case_id = UUID(args.dossier)
    except ValueError:
        sys.exit(f"Identifiant de dossier invalide: {args.dossier!r}.")
    app = Parcours(settings)
    try:
        history = case_history(app, case_id)
        if not history:
            sys.exit(f"Aucun dossier {case_id}.")
        found = sanctions.situation(app, history, args.date or app.today(), args.known_at)
        print(_json(found))
    finally:
        app.close()


def cmd_worklist(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services import sanctions
    from projections.sanctions import MotifEp

    app = Parcours(settings)
    try:
        motifs = frozenset(MotifEp(m) for m in args.motif or ())
        lines = sanctions.worklist(app, args.date or app.today(), args.ep, motifs)
        for line in lines:
            late = "EN RETARD" if line.en_retard else ""
            print(
                f"{line.echeance}  {line.case_id}  n°{line.numero}  {line.libelle} "
                f"(depuis le {line.depuis}) {late}".rstrip()
            )
        print(f"{len(lines)} ligne(s)")
    finally:
        app.close()


def cmd_indicators(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services import sanctions

    if args.au < args.du:
        sys.exit(f"--au ({args.au}) précède --du ({args.du}).")
    app = Parcours(settings)
    try:
        print(_json(sanctions.statistics(app, args.du, args.au, args.known_at)))
    finally:
        app.close()


def cmd_document(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from adapters.render.ep_html import html, ordre_du_jour, proces_verbal
    from api.services.ep_sessions import session_of, session_with_points

    kind = suffix(args.sortie, ("html", "htm", "pdf")) if args.sortie else "html"
    app = Parcours(settings)
    try:
        session = session_of(app, args.seance)
        if session is None:
            sys.exit(f"Aucune séance {args.seance!r}.")
        if args.document == "proces-verbal" and session.tenue_le is None:
            sys.exit(f"La séance {args.seance!r} ne s'est pas encore tenue.")
        seance = session_with_points(app, session)
        document = (ordre_du_jour if args.document == "ordre-du-jour" else proces_verbal)(seance)
        if kind == "pdf":
            from adapters.render.ep_pdf import pdf

            Path(args.sortie).write_bytes(pdf(document))
        elif args.sortie:
            Path(args.sortie).write_text(html(document), encoding="utf-8")
        else:
            print(html(document))
        if args.sortie:
            print(f"Écrit: {args.sortie} ({len(seance.points)} point(s))")
    finally:
        app.close()


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "ep", help="EP et sanctions: situation, liste de travail, indicateurs, séances"
    )
    ep = p.add_subparsers(dest="ep_command", required=True)

    s = ep.add_parser("situation", help="sanctions en vigueur d'un dossier à une date")
    s.add_argument("dossier", help="identifiant (UUID) du dossier")
    s.add_argument("--date", type=date.fromisoformat, help="la date (défaut: aujourd'hui)")
    option(
        s,
        "--connu-le",
        "--known-at",
        dest="known_at",
        type=moment,
        help="tel que connu à cet instant (ISO 8601)",
    )
    s.set_defaults(func=cmd_situation)

    w = ep.add_parser("a-traiter", help="saisines, avis, observations, suspensions à suivre")
    w.add_argument("--date", type=date.fromisoformat, help="la date (défaut: aujourd'hui)")
    w.add_argument("--ep", help="une équipe pluridisciplinaire")
    w.add_argument("--motif", action="append", choices=MOTIFS, help="ne garder que ce motif")
    w.set_defaults(func=cmd_worklist)

    i = ep.add_parser("indicateurs", help="sanctions par type et régime, remobilisation, délais")
    i.add_argument("--du", type=date.fromisoformat, required=True, help="premier jour")
    i.add_argument("--au", type=date.fromisoformat, required=True, help="dernier jour")
    option(
        i,
        "--connu-le",
        "--known-at",
        dest="known_at",
        type=moment,
        help="tel que connu à cet instant (ISO 8601)",
    )
    i.set_defaults(func=cmd_indicators)

    for name, what in (("ordre-du-jour", "l'ordre du jour"), ("proces-verbal", "le procès-verbal")):
        d = ep.add_parser(name, help=f"{what} d'une séance, en HTML ou en PDF")
        d.add_argument("seance", help="identifiant de la séance")
        add_output(
            d,
            "écrire le document dans ce fichier, HTML ou PDF selon l'extension (.html, .pdf; "
            "défaut: la page HTML sur la sortie)",
            "--html",
        )
        d.set_defaults(func=cmd_document, document=name)
