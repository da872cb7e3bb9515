"""`parcours backup --sortie FICHIER` and `parcours restore FICHIER [--reconstruire]
[--verifier]`: one file holding every record of the store (the log as stored, the sealed
identity vault, the access log…), and its load into an empty database (docs/ops/backup.md)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from adapters.backup import Manifest
    from adapters.settings import Settings
    from api.cli.types import Subcommands

USER_ERROR = 2
STORE_UNREACHABLE = 3


def refuse(message: str, code: int = USER_ERROR) -> NoReturn:
    """One line on stderr, no traceback, and the exit code of the conventions."""
    print(f"parcours: {message}", file=sys.stderr)
    raise SystemExit(code)


def unreachable(settings: Settings, error: Exception) -> NoReturn:
    where = (
        f"PostgreSQL {settings.postgres_host}:{settings.postgres_port}/{settings.postgres_dbname}"
        if settings.store == "postgres"
        else str(settings.sqlite_file)
    )
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    refuse(f"stockage injoignable ({where}): {first}", STORE_UNREACHABLE)


def _summary(manifest: Manifest) -> dict[str, object]:
    return {
        "format": manifest.format,
        "parcours_version": manifest.parcours_version,
        "stockage": manifest.store,
        "cree_le": manifest.created_at.isoformat(),
        "derniere_position": manifest.last_position,
        "sections": {s.name: s.rows for s in manifest.sections},
    }


def _print(manifest: Manifest, as_json: bool, head: str) -> None:
    if as_json:
        import msgspec

        print(msgspec.json.encode(_summary(manifest)).decode())
        return
    print(head)
    print(
        f"  stockage {manifest.store}, parcours {manifest.parcours_version}, "
        f"créée le {manifest.created_at:%Y-%m-%d %H:%M:%S %Z}, "
        f"dernière position du journal {manifest.last_position}"
    )
    for s in manifest.sections:
        print(f"  {s.name:<20} {s.rows:>10} lignes  {s.length:>12} octets")


def cmd_backup(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.backup import BackupError, write_backup
    from adapters.eventlog.store import STORE_ERRORS, Parcours

    target = Path(args.sortie)
    if target.is_dir():
        refuse(f"{target} est un dossier : un fichier est attendu")
    if not target.parent.is_dir():
        refuse(f"dossier inexistant : {target.parent}")
    try:
        app = Parcours(settings)
    except STORE_ERRORS as e:
        unreachable(settings, e)
    started = time.perf_counter()
    try:
        manifest = write_backup(app, target)
    except BackupError as e:
        refuse(str(e))
    except STORE_ERRORS as e:
        unreachable(settings, e)
    finally:
        app.close()
    elapsed = time.perf_counter() - started
    size = target.stat().st_size
    _print(
        manifest,
        args.json,
        f"Sauvegarde écrite dans {target} ({size:,} octets, {elapsed:.1f} s)",
    )


def cmd_restore(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.backup import BackupError, CorruptBackup, TargetNotEmpty, restore, verify
    from adapters.eventlog.store import STORE_ERRORS, Parcours

    source = Path(args.fichier)
    if not source.is_file():
        refuse(f"fichier introuvable : {source}")
    if args.verifier:
        try:
            manifest = verify(source)
        except CorruptBackup as e:
            refuse(f"sauvegarde refusée : {e}", 1)
        except BackupError as e:
            refuse(str(e))
        _print(manifest, args.json, f"Sauvegarde {source} intègre (rien n'a été écrit)")
        return
    try:
        app = Parcours(settings)
    except STORE_ERRORS as e:
        unreachable(settings, e)
    started = time.perf_counter()
    try:
        manifest = restore(app, source)
    except CorruptBackup as e:
        refuse(f"sauvegarde refusée, rien n'a été écrit : {e}", 1)
    except TargetNotEmpty as e:
        refuse(f"restauration refusée, rien n'a été écrit : {e}")
    except BackupError as e:
        refuse(f"restauration refusée, rien n'a été écrit : {e}")
    except STORE_ERRORS as e:
        unreachable(settings, e)
    elapsed = time.perf_counter() - started
    head = f"Sauvegarde {source} restaurée en {elapsed:.1f} s"
    if args.json:
        head = ""
    if not args.reconstruire:
        app.close()
        _print(manifest, args.json, head)
        if not args.json:
            print("Reconstruire maintenant les projections : parcours rebuild")
        return
    from adapters.readmodels.projector import Projector

    applied = Projector(app).rebuild()
    app.close()
    _print(manifest, args.json, head)
    if not args.json:
        print(f"Projections reconstruites : {applied} événements rejoués")


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "backup",
        help="sauvegarder le journal, le coffre des identités et les autres registres",
        description="Écrit, lus dans un même instantané, le journal tel que stocké, les clés "
        "d'idempotence, le coffre des identités (scellé), le journal d'accès, les rapports "
        "d'import et l'état des connecteurs, compressés et vérifiables (docs/ops/backup.md).",
    )
    p.add_argument("--sortie", required=True, metavar="FICHIER", help="fichier à écrire")
    p.add_argument("--json", action="store_true", help="le manifeste en JSON")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="restaurer une sauvegarde dans une base vide",
        description="Vérifie chaque empreinte avant d'écrire, refuse une base non vide, charge "
        "tout en une transaction et garde les positions du journal (docs/ops/backup.md).",
    )
    p.add_argument("fichier", metavar="FICHIER", help="la sauvegarde (parcours backup)")
    p.add_argument(
        "--reconstruire",
        action="store_true",
        help="reconstruire les projections aussitôt (sinon : parcours rebuild)",
    )
    p.add_argument(
        "--verifier",
        action="store_true",
        help="vérifier seulement le fichier (empreintes, lignes), sans rien écrire",
    )
    p.add_argument("--json", action="store_true", help="le manifeste en JSON")
    p.set_defaults(func=cmd_restore)
