"""Corrections and the two dates, pure: a case keyed late, backdated, then corrected; what each
read answers, written out by hand, and the rules a correction must respect."""

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from domain import commands as c
from domain.bitemporal import as_of, bitemporal, known_at
from domain.corrections import effective_history
from domain.decide import Contexte, decide_on_history
from domain.dossier import fold_history
from domain.errors import DomainError
from domain.events import EtapeAnnulee, EtapeRectifiee, Meta, Recorded
from domain.vocabulary import (
    ModeRdv,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
)
from projections.case_state import case_row, fold

CASE = UUID(int=7)
D = date
TODAY = D(2024, 12, 31)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def record(history: list[Recorded], command: c.Commande, when: datetime) -> list[Recorded]:
    meta = Meta(recorded_at=when, recorded_by="agent-7", structure_id="ccas-1", request_id="r")
    events = decide_on_history(history, command, Contexte(today=TODAY, meta=meta))
    out = list(history)
    for e in events:
        out.append(Recorded(CASE, len(out) + 1, e))
    return out


def refused(history: list[Recorded], command: c.Commande, code: str, field: str | None) -> None:
    with pytest.raises(DomainError) as raised:
        record(history, command, at(D(2024, 12, 30)))
    assert (raised.value.code, raised.value.field) == (code, field), raised.value.detail


ENTREE = c.EnregistrerEntree(
    effective_on=D(2024, 1, 3),
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=D(2024, 1, 4),
    date_reception_flux=D(2024, 1, 8),
)
ORIENTATION = c.DeciderOrientation(
    effective_on=D(2024, 1, 25),
    type_orientation=TypeOrientation.SOCIALE,
    organisme=TypeOrganisme.CCAS,
    structure_id="ccas-1",
)
REFERENT = c.DesignerReferent(effective_on=D(2024, 1, 29), referent_id="ref-1")
RDV = c.PlanifierRdv(
    effective_on=D(2024, 2, 1),
    type_rdv=TypeRdv.PREMIER_ACCOMPAGNEMENT,
    mode=ModeRdv.CONVOCATION,
    date_rdv=D(2024, 2, 5),
)
CER = c.SignerCer(effective_on=D(2024, 2, 20), date_debut=D(2024, 3, 1), duree_mois=6)


def keyed() -> list[Recorded]:
    """v1 entry (keyed 8 Jan), v2 orientation of 25 Jan keyed late on 10 Feb, v3 referent
    (29 Jan, keyed 10 Feb), v4 RDV (1 Feb, keyed 12 Feb), v5 CER (20 Feb, keyed 1 March)."""
    h: list[Recorded] = []
    h = record(h, ENTREE, at(D(2024, 1, 8)))
    h = record(h, ORIENTATION, at(D(2024, 2, 10)))
    h = record(h, REFERENT, at(D(2024, 2, 10), 10))
    h = record(h, RDV, at(D(2024, 2, 12)))
    return record(h, CER, at(D(2024, 3, 1)))


def corrected() -> list[Recorded]:
    """Then v6 (2 April): the orientation took effect on 20 Jan, not 25; v7 (3 April): the RDV
    was keyed on the wrong case."""
    h = keyed()
    h = record(
        h,
        c.RectifierEtape(
            effective_on=D(2024, 4, 2),
            version_rectifiee=2,
            effective_on_corrige=D(2024, 1, 20),
            motif="date de la notification",
        ),
        at(D(2024, 4, 2)),
    )
    return record(
        h,
        c.AnnulerEtape(effective_on=D(2024, 4, 3), version_annulee=4, motif="mauvais dossier"),
        at(D(2024, 4, 3)),
    )


def versions(history: list[Recorded]) -> list[int]:
    return [r.originator_version for r in history]


def test_corrections_are_recorded_as_new_events_naming_what_they_correct() -> None:
    h = corrected()
    assert versions(h) == [1, 2, 3, 4, 5, 6, 7]
    assert h[5].event == EtapeRectifiee(
        effective_on=D(2024, 4, 2),
        meta=h[5].event.meta,
        version_rectifiee=2,
        effective_on_corrige=D(2024, 1, 20),
        motif="date de la notification",
    )
    assert h[6].event == EtapeAnnulee(
        effective_on=D(2024, 4, 3), meta=h[6].event.meta, version_annulee=4, motif="mauvais dossier"
    )
    assert h[1].event.effective_on == D(2024, 1, 25)  # the original is untouched


def test_effective_history_applies_voids_and_rectified_dates() -> None:
    effective = effective_history(corrected())
    assert versions(effective) == [1, 2, 3, 5]
    assert [r.event.effective_on for r in effective] == [
        D(2024, 1, 3),
        D(2024, 1, 20),
        D(2024, 1, 29),
        D(2024, 2, 20),
    ]


def test_known_at_is_the_prefix_recorded_by_then() -> None:
    h = corrected()
    assert versions(known_at(h, at(D(2024, 2, 9)))) == [1]
    assert versions(known_at(h, at(D(2024, 2, 10)))) == [1, 2]  # 9:00 inclusive
    assert versions(known_at(h, at(D(2024, 3, 15)))) == [1, 2, 3, 4, 5]
    assert versions(known_at(h, at(D(2024, 4, 2), 12))) == [1, 2, 3, 4, 5, 6]


def test_as_of_and_known_at_give_different_answers() -> None:
    h = corrected()
    # As of 22 January, as known today: the orientation (rectified to 20 Jan) had taken effect.
    now = bitemporal(h, day=D(2024, 1, 22))
    assert versions(now) == [1, 2]
    # The same day as known on 15 March: the orientation was then dated 25 January.
    then = bitemporal(h, day=D(2024, 1, 22), moment=at(D(2024, 3, 15)))
    assert versions(then) == [1]
    # As known on 9 February (the orientation not keyed yet), even as of today.
    assert versions(bitemporal(h, moment=at(D(2024, 2, 9)))) == [1]
    # As known on 15 March, as of today: the RDV still shows (its voiding came on 3 April).
    assert versions(bitemporal(h, moment=at(D(2024, 3, 15)))) == [1, 2, 3, 4, 5]
    assert versions(as_of(effective_history(h), D(2024, 2, 1))) == [1, 2, 3]


def test_case_row_as_of_and_as_known_at() -> None:
    h = corrected()
    today = case_row(h)
    assert today is not None
    assert (today.version, today.date_orientation, today.date_premier_rdv) == (
        7,
        D(2024, 1, 20),
        None,
    )
    before = case_row(known_at(h, at(D(2024, 3, 15))))
    assert before is not None
    assert (before.version, before.date_orientation, before.date_premier_rdv) == (
        5,
        D(2024, 1, 25),
        D(2024, 2, 5),
    )
    early = case_row(h, as_of=D(2024, 1, 22))
    assert early is not None
    assert (early.statut.value, early.structure_id, early.referent_id) == (
        "oriente",
        "ccas-1",
        None,
    )
    assert case_row(h, as_of=D(2024, 1, 2)) is None  # no entry yet


def test_the_fold_refolds_a_case_on_a_correction() -> None:
    h = corrected()
    assert fold(h)[CASE] == case_row(h)
    assert fold(h[:5])[CASE].date_premier_rdv == D(2024, 2, 5)


def test_later_steps_are_checked_against_the_corrected_path() -> None:
    h = corrected()
    # The orientation now dates from 20 Jan: a referent of 21 Jan is accepted …
    h2 = record(h, c.DesignerReferent(effective_on=D(2024, 1, 21), referent_id="r2"), at(TODAY))
    assert versions(h2)[-1] == 8
    # … which the original date (25 Jan) refused.
    with pytest.raises(DomainError) as raised:
        record(
            keyed(), c.DesignerReferent(effective_on=D(2024, 1, 21), referent_id="r2"), at(TODAY)
        )
    assert raised.value.code == "date_anterieure"
    # The voided RDV n°1 does not exist for the rules any more.
    refused(
        h,
        c.EnregistrerIssueRdv(effective_on=D(2024, 2, 5), numero=1, issue="seen"),
        "rdv_inconnu",
        "numero",
    )  # type: ignore[arg-type]


def test_a_voided_cer_can_be_signed_again() -> None:
    h = record(
        corrected(),
        c.AnnulerEtape(effective_on=D(2024, 5, 2), version_annulee=5, motif="CER d'un autre"),
        at(D(2024, 5, 2)),
    )
    assert fold_history(h).cer is None
    h = record(h, CER, at(D(2024, 5, 3)))
    assert fold_history(h).cer is not None


def test_latest_rectification_wins_and_voiding_wins_over_rectification() -> None:
    h = corrected()
    h = record(
        h,
        c.RectifierEtape(
            effective_on=D(2024, 5, 1),
            version_rectifiee=2,
            effective_on_corrige=D(2024, 1, 18),
            motif="second contrôle",
        ),
        at(D(2024, 5, 1)),
    )
    assert effective_history(h)[1].event.effective_on == D(2024, 1, 18)
    h = record(
        h,
        c.RectifierEtape(
            effective_on=D(2024, 5, 2),
            version_rectifiee=5,
            effective_on_corrige=D(2024, 2, 22),
            motif="date de signature",
        ),
        at(D(2024, 5, 2)),
    )
    h = record(
        h,
        c.AnnulerEtape(effective_on=D(2024, 5, 3), version_annulee=5, motif="CER d'un autre"),
        at(D(2024, 5, 3)),
    )
    assert versions(effective_history(h)) == [1, 2, 3]


@pytest.mark.parametrize(
    ("command", "code", "field"),
    [
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=1, motif="x"), "entree_non_annulable", "version_annulee"),
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=8, motif="x"), "version_inconnue", "version_annulee"),
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=0, motif="x"), "version_inconnue", "version_annulee"),
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=6, motif="x"), "correction_non_corrigeable", "version_annulee"),
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=4, motif="x"), "etape_deja_annulee", "version_annulee"),
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=3, motif="  "), "motif_requis", "motif"),
        # voiding the orientation would leave the referent and the CER without one
        (c.AnnulerEtape(effective_on=TODAY, version_annulee=2, motif="x"), "correction_incoherente", "version_annulee"),
        (c.AnnulerEtape(effective_on=D(2024, 2, 19), version_annulee=5, motif="x"), "date_anterieure", "effective_on"),
        (c.AnnulerEtape(effective_on=D(2025, 1, 1), version_annulee=5, motif="x"), "date_future", "effective_on"),
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=4, effective_on_corrige=D(2024, 2, 2), motif="x"), "etape_deja_annulee", "version_rectifiee"),
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=7, effective_on_corrige=D(2024, 2, 2), motif="x"), "correction_non_corrigeable", "version_rectifiee"),
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=9, effective_on_corrige=D(2024, 2, 2), motif="x"), "version_inconnue", "version_rectifiee"),
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=2, effective_on_corrige=D(2024, 1, 20), motif="x"), "date_inchangee", "effective_on_corrige"),
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=2, effective_on_corrige=D(2025, 1, 20), motif="x"), "date_future", "effective_on_corrige"),
        # the orientation after its referent (29 Jan) and CER (20 Feb)
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=2, effective_on_corrige=D(2024, 2, 1), motif="x"), "correction_incoherente", "effective_on_corrige"),
        # the entry after the orientation (20 Jan)
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=1, effective_on_corrige=D(2024, 1, 21), motif="x"), "correction_incoherente", "effective_on_corrige"),
        (c.RectifierEtape(effective_on=TODAY, version_rectifiee=3, effective_on_corrige=D(2024, 1, 30), motif=""), "motif_requis", "motif"),
    ],
)  # fmt: skip
def test_correction_rules(command: c.Commande, code: str, field: str) -> None:
    refused(corrected(), command, code, field)


def test_an_entry_date_may_be_rectified_earlier() -> None:
    h = record(
        corrected(),
        c.RectifierEtape(
            effective_on=TODAY,
            version_rectifiee=1,
            effective_on_corrige=D(2023, 12, 28),
            motif="date du flux",
        ),
        at(TODAY),
    )
    assert fold_history(h).date_entree == D(2023, 12, 28)


def test_no_correction_on_an_unknown_case() -> None:
    refused(
        [],
        c.AnnulerEtape(effective_on=TODAY, version_annulee=1, motif="x"),
        "dossier_inconnu",
        None,
    )


def test_as_of_commutes_with_the_corrections() -> None:
    h = corrected()
    for day in (D(2024, 1, 19), D(2024, 1, 22), D(2024, 2, 1), D(2024, 2, 19), TODAY):
        assert effective_history(as_of(h, day)) == as_of(effective_history(h), day), day
    # Raw, as of 22 January: the entry, the orientation (rectified to 20 Jan), both corrections.
    assert versions(as_of(h, D(2024, 1, 22))) == [1, 2, 6, 7]
