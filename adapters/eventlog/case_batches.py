"""Many cases' histories in one query: an import decides a batch of households at once."""

from collections import defaultdict
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

from adapters.eventlog.store import Parcours
from domain.events import Evenement


def load_histories(app: Parcours, case_ids: Iterable[UUID]) -> dict[UUID, list[Evenement]]:
    """Each case's events in version order (absent cases are left out)."""
    wanted = list(set(case_ids))
    found: dict[UUID, list[tuple[int, Evenement]]] = defaultdict(list)
    decode = app.mapper.decode_state
    recorder = app.recorder
    table = recorder.events_table_name
    rows: list[tuple[UUID, int, str, bytes]] = []
    if not wanted:
        return {}
    if app.settings.store == "postgres":
        query = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%s)"
        ).format(Identifier(app.settings.postgres_schema), Identifier(table))
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(query, (wanted,))
            rows = [
                (r["originator_id"], r["originator_version"], r["topic"], r["state"])
                for r in curs.fetchall()
            ]
    else:
        with recorder.datastore.transaction(commit=False) as c:
            for start in range(0, len(wanted), 500):
                chunk = [u.hex for u in wanted[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {table} "
                    f"WHERE originator_id IN ({marks})",
                    chunk,
                )
                rows.extend(
                    (UUID(r["originator_id"]), r["originator_version"], r["topic"], r["state"])
                    for r in c.fetchall()
                )
    for case_id, version, topic, state in rows:
        stored = StoredEvent(
            originator_id=case_id, originator_version=version, topic=topic, state=bytes(state)
        )
        found[case_id].append((version, decode(stored)))
    return {k: [e for _, e in sorted(v, key=lambda x: x[0])] for k, v in found.items()}
