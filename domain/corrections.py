"""A case's history as it now stands once corrections are applied.

An erroneous step is never edited nor deleted: a later correction event names the version it
corrects. Every read that wants "what happened" (statistics, financing, extracts) folds
`effective_history`; audits show the raw history, corrections included.
"""

from collections.abc import Sequence

from domain.events import EtapeAnnulee, Evenement, Recorded


def effective_history(history: Sequence[Recorded]) -> list[Recorded]:
    """The history without the steps declared void, nor the correction events themselves."""
    voided = {r.event.version_annulee for r in history if isinstance(r.event, EtapeAnnulee)}
    return [
        r
        for r in history
        if not isinstance(r.event, EtapeAnnulee) and r.originator_version not in voided
    ]


CORRECTION_TYPES: tuple[type[Evenement], ...] = (EtapeAnnulee,)
"""Events that change how earlier steps read: a read model refolds the case from its history."""


def is_correction(event: Evenement) -> bool:
    return isinstance(event, CORRECTION_TYPES)
