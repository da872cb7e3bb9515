"""Benchmark of the EP procedure's reads on PostgreSQL: the worklist and the sanction indicators
over every case with a referral, next to the raw read of the same histories, in one run.

    python3 -m uv run python -m scripts.bench_ep --people 20000

Loads `people` cases through the rules (each: entry, orientation, referral, notice, agenda,
opinion, a suspension-remobilisation, and a re-engagement for one in three) into its own schema
of database parcours_bench_ep (dropped afterwards), then measures: (1) raw: every case history
read and decoded from the log (`histories`), nothing else; (2) the EP worklist on one day and
(3) the indicators for a year, each through the service (that same read, then the folds).
Writes its section of docs/benchmarks.md.
"""

import argparse
import os
import uuid
from datetime import UTC, date, datetime, timedelta

from adapters.eventlog.reading import histories
from adapters.eventlog.store import Parcours
from api.services import sanctions as service
from domain import commands as c
from domain import events as ev
from domain.decide import Contexte, decide
from domain.dossier import Dossier, evolve
from domain.events import Recorded
from domain.vocabulary import (
    AvisEp,
    MotifSaisineEp,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeSanction,
)
from scripts.benchlib import bench_settings, drop_schema, platform_summary, timed, write_section

BEGIN = "<!-- bench_ep: begin -->"
END = "<!-- bench_ep: end -->"
TODAY = date(2026, 6, 30)
META = ev.Meta(recorded_at=datetime(2026, 6, 30, tzinfo=UTC), recorded_by="bench", request_id="b")


def person(i: int) -> list[c.Commande]:
    """One case through the procedure, its dates spread over 2025-2026."""
    d0 = date(2025, 6, 2) + timedelta(days=i % 300)
    steps: list[c.Commande] = [
        c.EnregistrerEntree(
            effective_on=d0,
            numero_dossier=f"B-{i}",
            organisme_payeur=OrganismePayeur.CAF,
            date_flux=d0,
            date_reception_flux=d0,
        ),
        c.DeciderOrientation(
            effective_on=d0 + timedelta(days=3),
            type_orientation=TypeOrientation.PROFESSIONNELLE,
            organisme=TypeOrganisme.FRANCE_TRAVAIL,
            structure_id=f"ft-{i % 20}",
        ),
        c.SaisirEp(
            effective_on=d0 + timedelta(days=20),
            motif_saisine=MotifSaisineEp.SANCTION,
            ep_id=f"ep-{i % 5}",
            manquement="RDV manqué",
            date_manquement=d0 + timedelta(days=15),
        ),
        c.NotifierObservations(effective_on=d0 + timedelta(days=21), saisine=1),
        c.InscrireOrdreDuJour(
            effective_on=d0 + timedelta(days=22),
            saisine=1,
            session_id=f"s-{i % 50}",
            date_session=d0 + timedelta(days=60),
        ),
        c.RendreAvisEp(effective_on=d0 + timedelta(days=60), saisine=1, avis=AvisEp.SANCTION),
        c.DeciderSanction(
            effective_on=d0 + timedelta(days=62),
            type_sanction=TypeSanction.SUSPENSION_REMOBILISATION,
            motif="RDV manqué",
            saisine=1,
            pourcentage=30 + i % 71,
            duree_mois=1 + i % 2,
            date_debut=d0 + timedelta(days=70),
            montant_mensuel_centimes=60_000,
            personnes_foyer=1,
        ),
    ]
    if i % 3 == 0:
        steps.append(c.ConstaterRemobilisation(effective_on=d0 + timedelta(days=75), numero=1))
    return steps


def load(app: Parcours, n: int) -> int:
    written, batch = 0, []
    ctx = Contexte(today=TODAY, meta=META)
    for i in range(n):
        case_id, state, version = uuid.uuid4(), Dossier(), 0
        for command in person(i):
            for event in decide(state, command, ctx):
                version += 1
                batch.append(Recorded(case_id, version, event))
                state = evolve(state, event)
        if len(batch) >= 10_000:
            app.append_many(batch)
            written += len(batch)
            batch = []
    app.append_many(batch)
    return written + len(batch)


def raw(app: Parcours) -> int:
    return sum(len(h) for h in histories(app))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--no-doc", action="store_true", help="print only")
    parser.add_argument(
        "--dbname", default=os.environ.get("PARCOURS_BENCH_DBNAME", "parcours_bench_ep")
    )
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = bench_settings(args.dbname, schema, PARCOURS_LOG_LEVEL="WARNING")
    app = Parcours(settings)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        n, seconds = timed(lambda: load(app, args.people))
        print(f"loaded {n:,} events ({args.people:,} cases) in {seconds:.1f} s")
        raw_n, raw_s = timed(lambda: raw(app))
        assert raw_n == n
        print(f"raw read+decode of every history: {raw_s:.2f} s, {n / raw_s:,.0f} events/s")
        lines, work_s = timed(lambda: service.worklist(app, date(2026, 1, 15), None, frozenset()))
        print(f"EP worklist: {len(lines):,} lines in {work_s:.2f} s, {n / work_s:,.0f} events/s")
        found, ind_s = timed(
            lambda: service.statistics(app, date(2025, 1, 1), date(2026, 12, 31), None)
        )
        print(
            f"indicators: {sum(found.sanctions.values()):,} sanctions in {ind_s:.2f} s, "
            f"{n / ind_s:,.0f} events/s"
        )
        _, raw2_s = timed(lambda: raw(app))
        print(f"raw again: {raw2_s:.2f} s")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        app.close()
        drop_schema(settings)
    if args.no_doc:
        return
    raw_best = min(raw_s, raw2_s)
    machine = platform_summary()
    today = date.today().isoformat()
    write_section(
        BEGIN,
        END,
        [
            BEGIN,
            "## EP procedure and sanctions (`scripts/bench_ep.py`)",
            "",
            "```sh",
            f"python3 -m uv run python -m scripts.bench_ep --people {args.people}",
            "```",
            "",
            "The EP worklist and the sanction indicators read every case history from the log "
            "(no read model yet) and fold the cases with a referral or a sanction; the raw limit "
            "is the same read and decode of every history, nothing else.",
            "",
            "| what | ours | raw | ratio | machine | date |",
            "|---|---|---|---|---|---|",
            f"| EP worklist, events/s ({n:,} events, {args.people:,} cases, PostgreSQL) | "
            f"{n / work_s:,.0f} | {n / raw_best:,.0f} | {raw_best / work_s:.2f} | {machine} | {today} |",
            f"| sanction indicators, events/s ({n:,} events, PostgreSQL) | {n / ind_s:,.0f} | "
            f"{n / raw_best:,.0f} | {raw_best / ind_s:.2f} | {machine} | {today} |",
            END,
        ],
    )


if __name__ == "__main__":
    main()
