"""`parcours audit …`: what changed since a moment and why, the log of a recording-time window
as JSON lines, a case's history to file, the access log's purge at the end of its
retention, the log's hash chain verified (`verify`) and signed checkpoints of it
(`point-de-controle`)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from uuid import UUID

from api.cli.conventions import EXIT_PROBLEM, UserError, add_json, add_output, option
from api.services.retention import ACCESS_RETENTION_DAYS

if TYPE_CHECKING:
    from adapters.eventlog.chain import PointDeControle
    from adapters.settings import Settings
    from api.cli.types import Subcommands
    from api.services.ledger import Verification


def moment(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"instant ISO 8601 attendu: {raw!r}") from None


def _show(value: object) -> str:
    return "—" if value is None else str(value)


def cmd_diff(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from adapters.eventlog.store import Parcours
    from api.services import audit as audits

    app = Parcours(settings)
    started = time.perf_counter()
    result = audits.diff(app, args.known_at, args.as_of)
    out = sys.stdout
    for change in result.changes:
        change = audits.explain(app, change, result.known_at)
        if args.json:
            out.write(msgspec.json.encode(change).decode() + "\n")
            continue
        out.write(
            f"{change.case_id} {change.change} (v{_show(change.version_then)} → v{_show(change.version_now)})\n"
        )
        for f in change.fields:
            out.write(f"  {f.field}: {_show(f.then)} → {_show(f.now)}\n")
        for e in change.events:
            what = f"{e.type}" + (f" de l'étape {e.corrige}" if e.corrige else "")
            why = f" — {e.motif}" if e.motif else ""
            out.write(
                f"    v{e.version} #{e.position} {what}, effet {e.effective_on}, "
                f"enregistré {e.recorded_at:%Y-%m-%d %H:%M} par {e.recorded_by}{why}\n"
            )
    elapsed = time.perf_counter() - started
    print(
        f"{len(result.changes)} dossiers changés entre la position {result.position_then} "
        f"(connue au {result.known_at.isoformat()}) et {result.position_now} ({elapsed:.1f} s)",
        file=sys.stderr,
    )
    if result.quarantaine:
        print(
            f"{len(result.quarantaine)} dossier(s) en quarantaine laissé(s) de côté: "
            + ", ".join(map(str, result.quarantaine)),
            file=sys.stderr,
        )
    app.close()


def cmd_log(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services import audit as audits

    app = Parcours(settings)
    window = audits.log_window(app, args.start, args.end)
    sink = sys.stdout.buffer
    lines = 0
    for chunk in audits.log_lines(app, window):
        sink.write(chunk)
        lines += chunk.count(b"\n")
    sink.flush()
    print(f"{lines} événements (positions {window.after + 1} à {window.stop})", file=sys.stderr)
    app.close()


def cmd_export(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.reading import case_history
    from adapters.eventlog.store import Parcours
    from adapters.readmodels.quarantine import describe
    from adapters.render.audit_html import render
    from api.services import audit as audits

    app = Parcours(settings)
    history = case_history(app, args.case_id)
    if not history:
        raise UserError(f"aucun dossier {args.case_id}.")
    try:
        at = audits.case_at(app, args.case_id, args.as_of, args.known_at, history)
    except Exception as e:
        app.close()
        print(f"parcours: dossier {args.case_id} en quarantaine: {describe(e)}", file=sys.stderr)
        sys.exit(EXIT_PROBLEM)
    document = audits.export(app, at, "cli")
    data = render(document).encode() if args.format == "html" else audits.export_json(document)
    if args.sortie:
        Path(args.sortie).write_bytes(data)
        print(f"Historique écrit dans {args.sortie}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    app.close()


def cmd_purge_accesses(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.eventlog.store import Parcours
    from api.services import audit as audits

    app = Parcours(settings)
    before, count = audits.purge_accesses(app, args.jours)
    print(f"{count} accès antérieurs au {before:%Y-%m-%d %H:%M} UTC effacés du journal d'accès")
    app.close()


def _point_file(raw: str | None) -> PointDeControle | None:
    """The checkpoint in a file, or exit 2 with a one-line message."""
    if raw is None:
        return None
    from api.services.ledger import PointInvalide, read_point

    try:
        return read_point(Path(raw).read_bytes())
    except FileNotFoundError:
        sys.stderr.write(f"parcours: fichier de point de contrôle introuvable: {raw}\n")
    except OSError:
        sys.stderr.write(f"parcours: fichier de point de contrôle illisible: {raw}\n")
    except PointInvalide as e:
        sys.stderr.write(f"parcours: {raw}: {e}\n")
    raise SystemExit(2)


def _unreachable(e: Exception) -> NoReturn:
    sys.stderr.write(
        f"parcours: stockage injoignable: {str(e).splitlines()[0] if str(e) else e!r}\n"
    )
    raise SystemExit(3)


def cmd_verify(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from adapters.eventlog.store import STORE_ERRORS, Parcours
    from api.services import ledger

    point = _point_file(args.point)
    depuis = _point_file(args.depuis_point)
    if point is not None and depuis is not None:
        sys.stderr.write("parcours: --point et --depuis-point s'excluent\n")
        raise SystemExit(2)
    try:
        app = Parcours(settings)
        result = ledger.verify(app, point=point, depuis=depuis, public=args.cle_publique)
        app.close()
    except STORE_ERRORS as e:
        _unreachable(e)
    if args.json:
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    else:
        sys.stdout.write(_verdict(result))
    raise SystemExit(0 if result.conforme else 1)


def _verdict(result: Verification) -> str:
    lines = []
    span = f"positions {result.depuis + 1} à {result.jusqu_a}"
    if not result.ruptures:
        lines.append(
            f"Chaîne intacte: {result.evenements} événements vérifiés ({span}, {result.secondes} s)"
        )
    else:
        lines.append(
            f"Chaîne rompue: {len(result.ruptures)} rupture(s) sur {result.evenements} "
            f"événements ({span})"
        )
        for b in result.ruptures:
            what = {"modifie": "modifié", "insere": "inséré", "supprime": "supprimé"}[b.kind]
            case = f" dossier {b.case_id} v{b.version} {b.type}" if b.case_id else ""
            lines.append(f"  position {b.position}: événement {what}{case} — {b.detail}")
    if result.point is not None:
        p = result.point
        state = "conforme" if p.conforme else "NON CONFORME"
        lines.append(f"Point de contrôle (position {p.position}): {state} — {p.detail}")
    return "\n".join(lines) + "\n"


def cmd_checkpoint(settings: Settings, args: argparse.Namespace) -> None:
    import msgspec

    from adapters.eventlog.store import STORE_ERRORS, Parcours
    from api.services import ledger

    try:
        app = Parcours(settings)
        point = ledger.checkpoint(app, "demande")
        app.close()
    except STORE_ERRORS as e:
        _unreachable(e)
    data = msgspec.json.format(msgspec.json.encode(point), indent=2) + b"\n"
    if args.sortie:
        try:
            Path(args.sortie).write_bytes(data)
        except OSError as e:
            sys.stderr.write(f"parcours: impossible d'écrire {args.sortie} ({e.strerror})\n")
            raise SystemExit(2) from None
        print(
            f"Point de contrôle (position {point.position}) écrit dans {args.sortie}",
            file=sys.stderr,
        )
    if args.json or not args.sortie:
        sys.stdout.buffer.write(data)


def register(sub: Subcommands) -> None:
    group = sub.add_parser("audit", help="audit: différences depuis un instant, journal, export")
    cmds = group.add_subparsers(dest="audit_command", required=True)

    p = cmds.add_parser("diff", help="dossiers changés depuis un instant, et pourquoi")
    option(
        p,
        "--connu-le",
        "--known-at",
        dest="known_at",
        type=moment,
        required=True,
        help="instant ISO 8601",
    )
    option(
        p,
        "--au-jour",
        "--as-of",
        dest="as_of",
        type=date.fromisoformat,
        help="situation à cette date d'effet",
    )
    add_json(p, "une ligne JSON par dossier")
    p.set_defaults(func=cmd_diff)

    p = cmds.add_parser("log", help="le journal d'une fenêtre d'enregistrement (JSON lines)")
    option(p, "--depuis", "--from", dest="start", type=moment, help="connus après cet instant")
    option(p, "--jusqua", "--to", dest="end", type=moment, help="connus à cet instant au plus tard")
    p.set_defaults(func=cmd_log)

    p = cmds.add_parser("export", help="l'historique d'un dossier (JSON ou HTML)")
    p.add_argument("case_id", type=UUID)
    p.add_argument("--format", choices=["json", "html"], default="json")
    option(
        p,
        "--connu-le",
        "--known-at",
        dest="known_at",
        type=moment,
        help="tel que connu à cet instant (ISO 8601)",
    )
    option(
        p,
        "--au-jour",
        "--as-of",
        dest="as_of",
        type=date.fromisoformat,
        help="situation à cette date d'effet",
    )
    add_output(p, "fichier à écrire (sinon la sortie standard)")
    p.set_defaults(func=cmd_export)

    p = cmds.add_parser(
        "purger-acces", help="effacer les accès au-delà de leur durée de conservation (1 an)"
    )
    p.add_argument(
        "--jours",
        type=int,
        default=ACCESS_RETENTION_DAYS,
        help=f"durée de conservation en jours (défaut {ACCESS_RETENTION_DAYS})",
    )
    p.set_defaults(func=cmd_purge_accesses)

    p = cmds.add_parser(
        "verify",
        help="recalculer la chaîne du journal: premier événement modifié, inséré ou supprimé",
    )
    p.add_argument("--json", action="store_true", help="le verdict en JSON")
    p.add_argument(
        "--point",
        metavar="FICHIER",
        help="point de contrôle signé: prouver le journal inchangé jusqu'à sa position",
    )
    p.add_argument(
        "--depuis-point",
        metavar="FICHIER",
        help="point de contrôle signé: ne recalculer la chaîne qu'après sa position",
    )
    p.add_argument(
        "--cle-publique",
        metavar="HEX",
        help="clé publique Ed25519 attendue (défaut: celle du département)",
    )
    p.set_defaults(func=cmd_verify)

    p = cmds.add_parser(
        "point-de-controle", help="signer un point de contrôle du journal (position, racine, heure)"
    )
    p.add_argument(
        "--sortie", metavar="FICHIER", help="fichier à écrire (sinon la sortie standard)"
    )
    p.add_argument(
        "--json", action="store_true", help="écrire aussi le point sur la sortie standard"
    )
    p.set_defaults(func=cmd_checkpoint)
