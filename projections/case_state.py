"""Read model of every case: where each allocataire stands now, one row per case.

`evolve` is a pure fold (row + recorded event -> row); the stores only keep its result and the log
position it reached. A rebuild from zero and the incremental path run the same fold.

A correction (`EtapeAnnulee`, `EtapeRectifiee`) cannot be folded onto a row: the row is refolded
from the case's whole effective history (`case_row`), which the caller supplies (`HistoryOf`:
the store in the adapters, the records already seen in a fold from zero).
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
from msgspec.structs import replace

from domain import events as ev
from domain.bitemporal import as_of as effective_as_of
from domain.corrections import effective_history, is_correction
from domain.dates import fin_contrat
from domain.dossier import Statut
from domain.events import Evenement, Recorded
from domain.vocabulary import (
    RDV_AVANT_ORIENTATION,
    SORTIES_POSITIVES,
    IssueRdv,
    TypeOrganisme,
    TypeOrientation,
    TypeSortie,
)


class CaseRow(msgspec.Struct, frozen=True, kw_only=True):
    """The current state of one case, as agents list and filter it."""

    case_id: UUID
    version: int
    updated_at: datetime
    numero_dossier: str | None = None
    statut: Statut = Statut.A_ORIENTER
    episode: int = 0
    soumis_droits_devoirs: bool = False
    droit_suspendu: bool = False
    date_entree: date | None = None
    date_flux: date | None = None
    date_reception_flux: date | None = None
    type_orientation: TypeOrientation | None = None
    organisme: TypeOrganisme | None = None
    structure_id: str | None = None
    date_orientation: date | None = None
    date_premiere_orientation: date | None = None
    nb_reorientations: int = 0
    referent_id: str | None = None
    date_referent: date | None = None
    date_premier_rdv: date | None = None
    date_dernier_rdv: date | None = None
    rdv_seen: int = 0
    rdv_noshow: int = 0
    rdv_excused: int = 0
    rdv_revoked: int = 0
    rdv_en_attente: int = 0
    date_premier_cer: date | None = None
    date_fin_cer: date | None = None
    nb_cer: int = 0
    nb_entretiens_asc: int = 0
    sanctions_en_cours: int = 0
    date_sortie: date | None = None
    type_sortie: TypeSortie | None = None
    sortie_positive: bool | None = None
    date_cloture: date | None = None
    """When the right was closed (the identity's retention counts from the path's end)."""


_OUTCOME_FIELD = {
    IssueRdv.SEEN: "rdv_seen",
    IssueRdv.NOSHOW: "rdv_noshow",
    IssueRdv.EXCUSED: "rdv_excused",
    IssueRdv.REVOKED: "rdv_revoked",
}

_ENTRY_FIELDS = frozenset(
    {
        "case_id",
        "version",
        "updated_at",
        "numero_dossier",
        "episode",
        "soumis_droits_devoirs",
        "date_entree",
        "date_flux",
        "date_reception_flux",
    }
)
"""What an entry or a re-entry sets; every other field starts the episode at its default."""

_EPISODE_RESET: dict[str, object] = {
    f.name: f.default for f in msgspec.structs.fields(CaseRow) if f.name not in _ENTRY_FIELDS
}


def evolve(row: CaseRow | None, recorded: Recorded) -> CaseRow:
    """Fold one recorded event into its case's row (`None` before the first event). Partial
    fold: every event moves the version, only those `_changes` names change fields."""
    e = recorded.event
    base = row or CaseRow(case_id=recorded.originator_id, version=0, updated_at=e.meta.recorded_at)
    return replace(
        base,
        version=recorded.originator_version,
        updated_at=e.meta.recorded_at,
        **_changes(base, e),
    )


def _changes(r: CaseRow, e: Evenement) -> dict[str, Any]:
    """The fields event `e` changes in row `r`. Partial fold: an event the row does not show
    (a correction is refolded from the history) changes only the version."""
    match e:
        case ev.EntreeEnregistree() | ev.DroitRouvert():
            numero = e.numero_dossier if isinstance(e, ev.EntreeEnregistree) else r.numero_dossier
            return dict(
                **_EPISODE_RESET,
                numero_dossier=numero,
                episode=r.episode + 1,
                soumis_droits_devoirs=e.soumis_droits_devoirs,
                date_entree=e.effective_on,
                date_flux=e.date_flux,
                date_reception_flux=e.date_reception_flux,
            )
        case ev.DroitSuspendu():
            return dict(droit_suspendu=True)
        case ev.DroitRepris():
            return dict(droit_suspendu=False)
        case ev.DroitClos():
            return dict(statut=Statut.CLOS, sanctions_en_cours=0, date_cloture=e.effective_on)
        case ev.DroitsDevoirsModifies():
            return dict(soumis_droits_devoirs=e.soumis_droits_devoirs)
        case ev.OrientationDecidee() | ev.ReorientationDecidee():
            return dict(
                statut=Statut.ORIENTE,
                type_orientation=e.type_orientation,
                organisme=e.organisme,
                structure_id=e.structure_id,
                date_orientation=e.effective_on,
                date_premiere_orientation=r.date_premiere_orientation or e.effective_on,
                nb_reorientations=r.nb_reorientations + isinstance(e, ev.ReorientationDecidee),
                referent_id=None,
                date_referent=None,
            )
        case ev.ReferentDesigne():
            return dict(referent_id=e.referent_id, date_referent=e.effective_on)
        case ev.RdvPlanifie():
            premier = r.date_premier_rdv
            if premier is None and e.type_rdv not in RDV_AVANT_ORIENTATION:
                premier = e.date_rdv
            dernier = max(r.date_dernier_rdv or e.date_rdv, e.date_rdv)
            return dict(
                date_premier_rdv=premier,
                date_dernier_rdv=dernier,
                rdv_en_attente=r.rdv_en_attente + 1,
            )
        case ev.IssueRdvEnregistree():
            field = _OUTCOME_FIELD[e.issue]
            return dict(
                rdv_en_attente=max(r.rdv_en_attente - 1, 0),
                **{field: getattr(r, field) + 1},
            )
        case ev.CerSigne():
            return dict(
                nb_cer=r.nb_cer + 1,
                date_premier_cer=r.date_premier_cer or e.effective_on,
                date_fin_cer=fin_contrat(e.date_debut, e.duree_mois),
            )
        case ev.EntretienAscTenu():
            return dict(nb_entretiens_asc=r.nb_entretiens_asc + 1)
        case ev.SortieEnregistree():
            return dict(
                statut=Statut.SORTI,
                date_sortie=e.effective_on,
                type_sortie=e.type_sortie,
                sortie_positive=e.type_sortie in SORTIES_POSITIVES,
            )
        case ev.SanctionDecidee():
            return dict(sanctions_en_cours=r.sanctions_en_cours + 1)
        case ev.SanctionLevee() | ev.RemobilisationConstatee():
            # Re-engaging stops a suspension-remobilisation as a lifting does; a sanction's
            # end by its duration is read on a date (`GET /dossiers/{id}/sanctions`).
            return dict(sanctions_en_cours=max(r.sanctions_en_cours - 1, 0))
        case _:
            return {}


HistoryOf = Callable[[UUID, int], Sequence[Recorded]]
"""A case's raw history up to a version (corrections included)."""


def case_row(history: Sequence[Recorded], as_of: date | None = None) -> CaseRow | None:
    """A case's row from its raw history: corrections applied, steps that took effect after
    `as_of` left out (None when nothing had). Without `as_of` the row carries the version and
    recording time of the history's last event, corrections included."""
    effective = effective_history(history)
    if as_of is not None:
        effective = effective_as_of(effective, as_of)
    row: CaseRow | None = None
    for recorded in effective:
        row = evolve(row, recorded)
    if row is not None and as_of is None and history:
        last = history[-1]
        row = replace(row, version=last.originator_version, updated_at=last.event.meta.recorded_at)
    return row


def fold(
    records: Iterable[Recorded],
    rows: dict[UUID, CaseRow] | None = None,
    history: HistoryOf | None = None,
) -> dict[UUID, CaseRow]:
    """Fold many recorded events into rows keyed by case (a rebuild when `rows` is empty).

    A correction refolds its case from `history`; without it, from the records seen in this
    call, which then must hold the case's whole history (a fold from zero)."""
    out = dict(rows or {})
    seen: dict[UUID, list[Recorded]] = defaultdict(list)
    for recorded in records:
        case = recorded.originator_id
        if history is None:
            seen[case].append(recorded)
        if is_correction(recorded.event):
            past = seen[case] if history is None else history(case, recorded.originator_version)
            if history is None and case in (rows or {}):
                raise ValueError(f"the history of case {case} is needed to apply a correction")
            row = case_row(past)
            if row is None:
                out.pop(case, None)
            else:
                out[case] = row
            continue
        out[case] = evolve(out.get(case), recorded)
    return out
