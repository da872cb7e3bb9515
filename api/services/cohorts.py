"""Cohorts on the store: saved definitions, the extract's key, streamed extracts and the
analyses, each one pass over the histories in key order with flat memory.
"""

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import msgspec

from adapters.eventlog.mapper import topics_of
from adapters.eventlog.reading import decoded, events_of, stored_histories
from adapters.eventlog.store import Parcours
from adapters.render.extracts import Chunks, Format, Writer, open_writer
from api.services.cohort_options import Cle as Cle
from api.services.cohort_options import Forme as Forme
from api.services.commands import Author, execute, refused
from domain.cohorts import CohorteEnregistree, DefinitionCohorte, cohort_id, valider
from domain.decide import Contexte
from domain.events import Recorded
from projections.cohort import (
    COLONNES_EPISODES,
    COLONNES_EVENEMENTS,
    ENTRY_TYPES,
    Colonne,
    Row,
    appartient,
    entree_possible,
    episodes,
    ligne_episode,
    lignes_evenements,
)
from projections.cohort_analysis import Delais, Transitions
from projections.pseudonym import NiveauCommune, cle_personne

ENTRY_TOPICS = frozenset(topics_of(*ENTRY_TYPES))
"""Every version's topic of the entry events (older ones are upcast when decoded)."""


COLONNES: dict[Forme, tuple[Colonne, ...]] = {
    Forme.EVENEMENTS: COLONNES_EVENEMENTS,
    Forme.EPISODES: COLONNES_EPISODES,
}


def key_for(cle: Cle, stable: Callable[[], bytes]) -> bytes:
    """The extract's key: a fresh random one, or the département's `stable()` one (asked for
    only then, so a rotating extract never creates the key file)."""
    return secrets.token_bytes(32) if cle is Cle.ROTATIVE else stable()


# --- saved definitions ----------------------------------------------------------------------


def save_definition(
    app: Parcours, nom: str, definition: DefinitionCohorte, author: Author
) -> tuple[int, bool]:
    """Record the definition under its name; returns (version, created)."""

    def decide(_: list[Recorded], ctx: Contexte) -> list[CohorteEnregistree]:
        valider(nom, definition, ctx.today)
        return [
            CohorteEnregistree(
                effective_on=ctx.today, meta=ctx.meta, nom=nom, definition=definition
            )
        ]

    appended = execute(
        app,
        cohort_id(nom),
        decide,
        author,
        lost_race=refused("cohorte_concurrente", "Définition modifiée en même temps.", "nom"),
    )
    return appended.version, appended.created


def _event_list(app: Parcours, nom: str) -> list[Recorded]:
    return [r for r in app.events.get(cohort_id(nom)) if isinstance(r, Recorded)]


def load_definition(app: Parcours, nom: str) -> DefinitionCohorte | None:
    """The definition last saved under this name, if any."""
    saved = _event_list(app, nom)
    if not saved:
        return None
    last = saved[-1].event
    assert isinstance(last, CohorteEnregistree)
    return last.definition


def list_definitions(app: Parcours) -> dict[str, DefinitionCohorte]:
    """Every saved name and its current definition."""
    out = {event.nom: event.definition for event in events_of(app, CohorteEnregistree)}
    return dict(sorted(out.items()))


# --- extracts -------------------------------------------------------------------------------


class Bilan(msgspec.Struct, kw_only=True):
    """What an extract went through and wrote."""

    cas_lus: int = 0
    evenements_lus: int = 0
    personnes: int = 0
    lignes: int = 0


def _candidates(
    app: Parcours,
    definitions: Sequence[DefinitionCohorte],
    bilan: Bilan,
    progress: Callable[[int], None] | None,
) -> Iterator[list[Recorded]]:
    """The decoded histories of the cases that may belong to one of the cohorts: the entry
    events are decoded first, the rest only for cases that pass `entree_possible`."""
    for stored in stored_histories(app):
        bilan.cas_lus += 1
        bilan.evenements_lus += len(stored)
        if progress is not None:
            progress(len(stored))
        entries = [r.event for r in decoded(app, (s for s in stored if s.topic in ENTRY_TOPICS))]
        if any(entree_possible(d, entries) for d in definitions):
            yield decoded(app, stored)


def _rows(
    history: Sequence[Recorded],
    definition: DefinitionCohorte,
    forme: Forme,
    key: bytes,
    communes: NiveauCommune,
) -> list[Row]:
    eps = episodes(history)
    inside = [appartient(definition, ep) for ep in eps]
    if not any(inside):
        return []
    cle = cle_personne(key, history[0].originator_id)
    if forme is Forme.EVENEMENTS:
        return lignes_evenements(cle, history)
    return [ligne_episode(cle, ep, ok, communes) for ep, ok in zip(eps, inside, strict=True)]


def _run(
    app: Parcours,
    definition: DefinitionCohorte,
    forme: Forme,
    writer: Writer,
    key: bytes,
    communes: NiveauCommune,
    batch: int,
    bilan: Bilan,
    progress: Callable[[int], None] | None,
) -> Iterator[None]:
    """Write the extract, batch by batch; yields after each batch written."""
    pending: list[Row] = []
    for history in _candidates(app, [definition], bilan, progress):
        rows = _rows(history, definition, forme, key, communes)
        if rows:
            bilan.personnes += 1
            pending.extend(rows)
        if len(pending) >= batch:
            writer.write(pending)
            bilan.lignes += len(pending)
            pending = []
            yield
    writer.write(pending)
    bilan.lignes += len(pending)
    writer.close()
    yield


def extract_to(
    app: Parcours,
    definition: DefinitionCohorte,
    sink: BinaryIO,
    *,
    forme: Forme,
    fmt: Format,
    key: bytes,
    communes: NiveauCommune = NiveauCommune.COMMUNE,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> Bilan:
    """Write a cohort's extract into `sink`."""
    bilan = Bilan()
    writer = open_writer(fmt, sink, COLONNES[forme])
    for _ in _run(app, definition, forme, writer, key, communes, batch, bilan, progress):
        pass
    return bilan


def extract_stream(
    app: Parcours,
    definition: DefinitionCohorte,
    *,
    forme: Forme,
    fmt: Format,
    key: bytes,
    communes: NiveauCommune = NiveauCommune.COMMUNE,
    batch: int = 5000,
) -> Iterator[bytes]:
    """The extract's bytes as they are written (an HTTP body)."""
    sink = Chunks()
    writer = open_writer(fmt, sink, COLONNES[forme])  # type: ignore[arg-type]
    for _ in _run(app, definition, forme, writer, key, communes, batch, Bilan(), None):
        chunk = sink.take()
        if chunk:
            yield chunk


# --- analyses -------------------------------------------------------------------------------


@dataclass
class Analyse:
    delais: Delais
    transitions: Transitions


def analyse(
    app: Parcours,
    definitions: Mapping[str, DefinitionCohorte],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Analyse]:
    """Delays to milestones and transitions of each cohort, in one pass over the histories."""
    out = {nom: Analyse(delais=Delais(), transitions=Transitions()) for nom in definitions}
    for history in _candidates(app, list(definitions.values()), Bilan(), progress):
        eps = episodes(history)
        for nom, definition in definitions.items():
            inside = [ep for ep in eps if appartient(definition, ep)]
            if not inside:
                continue
            for ep in inside:
                out[nom].delais.add(ep)
            out[nom].transitions.add(history, from_episode=inside[0].numero)
    return out
