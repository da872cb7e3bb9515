"""The access log as data: one row per access to a case (its state, its timeline, the person's
identity, the case screen, an audit export, a step), granted or not, kept in a table of the
store beside the log so that an auditor can ask who opened a case, and a person who consulted
their file.

A row names the agent (its `sub`), the roles and structures it held, the route, the case id,
the purpose and the reason it gave: no identity in clear, so an erasure of the person's identity
leaves it (`docs/personal-data.md`). Writing one is one INSERT in a transaction of its own, no
fold; a failed write is raised to the caller, which refuses the read (an access not recorded is
worse than one refused)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import msgspec

from adapters.eventlog.store import Parcours
from adapters.readmodels.tables import Column, Index, Kind, Table, TableSpec, open_table

MOTIF_LENGTH = 200
"""The longest reason kept (a longer one is cut)."""

ACCESS_LOG = TableSpec(
    "journal_acces",
    columns=(
        Column("at", Kind.TIME),
        Column("id", Kind.UUID),
        Column("agent", Kind.TEXT),
        Column("roles", Kind.TEXT),
        Column("structures", Kind.TEXT),
        Column("case_id", Kind.UUID),
        Column("method", Kind.TEXT),
        Column("path", Kind.TEXT),
        Column("purpose", Kind.TEXT),
        Column("motif", Kind.TEXT, null=True),
        Column("outcome", Kind.TEXT),
        Column("request_id", Kind.TEXT, null=True),
    ),
    key=("at", "id"),
    indexes=(Index("case", ("case_id", "at")), Index("agent", ("agent", "at"))),
    migrated=True,
)
"""Keyed by time first: rows are appended in time order and read newest first."""


class Acces(msgspec.Struct, frozen=True, kw_only=True):
    """One access to a case."""

    at: datetime
    """When (UTC)."""
    agent: str
    """Who: the caller's `sub`."""
    roles: list[str]
    structures: list[str]
    case_id: UUID
    method: str
    path: str
    purpose: str
    """What the route is for ("lecture de la chronologie du dossier", "Décider l'orientation"…)."""
    motif: str | None
    """The reason the caller gave (`X-Motif-Acces`, `motif`), if any."""
    outcome: str
    """`granted`, `refused` (a role or an accompaniment that does not admit it), `hidden` (a case
    none of the agent's structures accompanies: answered as unknown)."""
    request_id: str | None = None


class AccessFilter(NamedTuple):
    """Which accesses: to a case, by an agent, within [start, end), with an outcome."""

    case_id: UUID | None = None
    agent: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcome: str | None = None


_COLUMNS = ACCESS_LOG.names


def clean(text: str | None, length: int = MOTIF_LENGTH) -> str | None:
    """A text as a store keeps it: bounded, without NUL (PostgreSQL refuses one)."""
    if text is None:
        return None
    text = text.replace("\x00", "").strip()[:length]
    return text or None


def _utc(moment: datetime) -> datetime:
    """Moments are kept and compared in UTC (SQLite compares their text)."""
    return moment.astimezone(UTC)


def _row(a: Acces) -> tuple[Any, ...]:
    return (
        _utc(a.at),
        uuid4(),
        a.agent,
        " ".join(a.roles),
        " ".join(a.structures),
        a.case_id,
        a.method,
        a.path,
        a.purpose,
        clean(a.motif),
        a.outcome,
        a.request_id,
    )


def _acces(row: Sequence[Any]) -> Acces:
    values = dict(zip(_COLUMNS, row, strict=True))
    return Acces(
        at=_utc(values["at"]),
        agent=values["agent"],
        roles=values["roles"].split(),
        structures=values["structures"].split(),
        case_id=values["case_id"],
        method=values["method"],
        path=values["path"],
        purpose=values["purpose"],
        motif=values["motif"],
        outcome=values["outcome"],
        request_id=values["request_id"],
    )


def _where(f: AccessFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.case_id is not None:
        clauses.append("case_id = %s")
        params.append(f.case_id)
    if f.agent is not None:
        clauses.append("agent = %s")
        params.append(f.agent)
    if f.start is not None:
        clauses.append("at >= %s")
        params.append(_utc(f.start))
    if f.end is not None:
        clauses.append("at < %s")
        params.append(_utc(f.end))
    if f.outcome is not None:
        clauses.append("outcome = %s")
        params.append(f.outcome)
    return " AND ".join(clauses), params


class AccessLog:
    """The access log of one application's store."""

    def __init__(self, table: Table) -> None:
        self.table = table

    @classmethod
    def of(cls, app: Parcours) -> "AccessLog":
        """The application's access log (its table made by the migrations, opened once)."""
        return cls(open_table(app, ACCESS_LOG))

    def record(self, acces: Acces) -> None:
        """One INSERT, committed before the caller answers; raises what the store raises."""
        with self.table.writing() as tx:
            tx.insert([_row(acces)])

    def find(
        self, f: AccessFilter, limit: int | None = None, offset: int = 0
    ) -> tuple[list[Acces], int]:
        """The accesses `f` selects, newest first, and how many there are in all."""
        where, params = _where(f)
        with self.table.reading(snapshot=True) as tx:
            total = tx.count(where, params)
            if limit is None:
                rows = tx.select(_COLUMNS, where, params, order="at DESC, id")
            else:
                rows = tx.select(
                    _COLUMNS, where, params, order="at DESC, id", limit=limit, offset=offset
                )
        return [_acces(r) for r in rows], total

    def purge(self, before: datetime) -> int:
        """Delete the accesses older than `before` (the end of their retention); how many."""
        where, params = _where(AccessFilter(end=before))
        with self.table.writing() as tx:
            count = tx.count(where, params)
            tx.delete(where, params)
        return count
