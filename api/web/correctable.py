"""The corrections the case screen offers on each step: those `admit_step` would admit for the
caller (`api.http.cases.may_correct`, the JSON routes' rule), on the steps the rules still let
one correct (not a correction, not a step already voided; the entry is rectified, never voided).
Kept apart from `api.web.corrections` so that the case page reads it without importing routes."""

from collections.abc import Mapping

from api.http.access import Accompagnants
from api.http.auth import Principal
from api.http.cases import may_correct
from domain.corrections import corrected_version, is_correction
from domain.events import EntreeEnregistree, EtapeAnnulee, Recorded

ANNULATION = "annulation"
RECTIFICATION = "rectification"


def offered(
    caller: Principal, history: list[Recorded], accompagnants: Accompagnants
) -> dict[int, tuple[str, ...]]:
    """Version → the slugs of the corrections the caller may open on that step."""
    voided = {corrected_version(r.event) for r in history if isinstance(r.event, EtapeAnnulee)}
    out: dict[int, tuple[str, ...]] = {}
    for r in history:
        v = r.originator_version
        if is_correction(r.event) or v in voided:
            continue
        if not may_correct(caller, history, accompagnants, v):
            continue
        entry = isinstance(r.event, EntreeEnregistree)
        out[v] = (RECTIFICATION,) if entry else (RECTIFICATION, ANNULATION)
    return out


DONE = {
    ANNULATION: "L'étape {v} est annulée : elle reste au journal, barrée dans la chronologie.",
    RECTIFICATION: "La date d'effet de l'étape {v} est rectifiée.",
}


def done(query: Mapping[str, str]) -> str | None:
    """The case page's confirmation after a correction (`?corrige=<slug>&v=<version>`)."""
    words, version = DONE.get(query.get("corrige", "")), query.get("v", "")
    return words.format(v=version) if words and version.isdigit() else None
