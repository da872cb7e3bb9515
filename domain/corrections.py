"""A case's history as it now stands once corrections are applied.

An erroneous step is never edited nor deleted: a later correction event names the version it
corrects. Every read that wants "what happened" (statistics, financing, extracts) folds
`effective_history`; audits show the raw history, corrections included.
"""

from collections.abc import Sequence

from domain.events import EtapeAnnulee, Recorded


def effective_history(history: Sequence[Recorded]) -> list[Recorded]:
    """The history without the steps declared void, nor the correction events themselves."""
    voided = {r.event.version_annulee for r in history if isinstance(r.event, EtapeAnnulee)}
    return [
        r
        for r in history
        if not isinstance(r.event, EtapeAnnulee) and r.originator_version not in voided
    ]
