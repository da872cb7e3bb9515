"""`parcours migrate`: bring the database to this release, schema then read models, and say
what was done (the worker, the demo and the server do the same at start)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.migrations import Applied
    from adapters.readmodels.versions import Upgrade
    from adapters.settings import Settings


def _report(applied: list[Applied], version: int, upgrades: list[Upgrade]) -> dict[str, Any]:
    return {
        "schema": {
            "version": version,
            "appliquees": [
                {"id": a.id, "nom": a.name, "appliquee_le": a.applied_at.isoformat()}
                for a in applied
            ],
        },
        "projections": [
            {
                "nom": u.name,
                "version_enregistree": u.recorded,
                "version": u.version,
                "reconstruite": u.rebuilt,
                "evenements": u.events,
                "secondes": round(u.seconds, 3),
                "position": u.position,
            }
            for u in upgrades
        ],
    }


def _print(report: dict[str, Any]) -> None:
    schema = report["schema"]
    for a in schema["appliquees"]:
        print(f"schéma : migration {a['id']} ({a['nom']}) appliquée")
    state = "à jour" if not schema["appliquees"] else "migré"
    print(f"schéma {state} : version {schema['version']}")
    for u in report["projections"]:
        if not u["reconstruite"]:
            print(f"projection {u['nom']} : version {u['version']} (inchangée)")
            continue
        before = u["version_enregistree"] or "?"
        print(
            f"projection {u['nom']} : version {before} → {u['version']}, reconstruite à côté "
            f"puis basculée ({u['evenements']:,} événements en {u['secondes']:.1f} s, "
            f"position {u['position']})".replace(",", " ")
        )


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    import json
    import sqlite3

    import psycopg
    from eventsourcing.persistence import InterfaceError, OperationalError

    from adapters.eventlog.store import Parcours
    from adapters.migrations import MIGRATIONS, DatabaseTooNew
    from adapters.readmodels.versions import migrate_at_start

    try:
        app = Parcours(settings)
        try:
            applied, upgrades = migrate_at_start(app)
        finally:
            app.close()
    except DatabaseTooNew as e:
        print(e, file=sys.stderr)
        sys.exit(1)
    except (
        psycopg.OperationalError,
        sqlite3.OperationalError,
        OperationalError,
        InterfaceError,
    ) as e:
        print(f"stockage injoignable : {e}".strip(), file=sys.stderr)
        sys.exit(3)
    report = _report(applied, max(m.id for m in MIGRATIONS), upgrades)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print(report)
