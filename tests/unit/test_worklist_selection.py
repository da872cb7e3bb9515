"""Filtering, counting and sorting a worklist (`projections.worklists.selectionner`): the counts
per motive under the other filters, the motive filter, days overdue, and a référent's own lines
first, each part in the order asked."""

from datetime import date, timedelta
from uuid import UUID

from projections.worklists import LIBELLES, Alerte, Filtre, Motif, selectionner, trier

TODAY = date(2024, 12, 31)


def line(n: int, motif: Motif, jours: int, referent: str | None) -> Alerte:
    depuis = TODAY - timedelta(days=jours)
    return Alerte(
        case_id=UUID(int=n),
        episode=1,
        motif=motif,
        libelle=LIBELLES[motif],
        echeance=depuis - timedelta(days=1),
        depuis=depuis,
        jours=jours,
        structure_id="s",
        referent_id=referent,
        detail="",
    )


LINES = [
    line(1, Motif.SANS_RDV, 10, "ref-a"),
    line(2, Motif.SANS_RDV, 200, "ref-b"),
    line(3, Motif.CER_ECHU, 40, "ref-a"),
    line(4, Motif.RDV_SANS_ISSUE, 90, None),
    line(5, Motif.CER_ECHU, 5, "ref-b"),
]


def test_counts_are_under_the_other_filters_and_the_motive_filters_the_lines() -> None:
    chosen = selectionner(LINES, Filtre(motifs=frozenset({Motif.CER_ECHU}), jours_min=6), "-jours")
    assert [a.case_id.int for a in chosen.lignes] == [3]
    assert chosen.par_motif == {Motif.SANS_RDV: 2, Motif.CER_ECHU: 1, Motif.RDV_SANS_ISSUE: 1}
    assert list(chosen.par_motif) == [m for m in Motif if m in chosen.par_motif]  # enum order


def test_a_referents_lines_come_first_each_part_in_the_order_asked() -> None:
    assert [a.jours for a in trier(LINES, "-jours")] == [200, 90, 40, 10, 5]
    mine = trier(LINES, "-jours", premier="ref-a")
    assert [(a.referent_id, a.jours) for a in mine] == [
        ("ref-a", 40),
        ("ref-a", 10),
        ("ref-b", 200),
        (None, 90),
        ("ref-b", 5),
    ]
    assert trier(LINES, "echeance", premier="nobody") == trier(LINES, "echeance")
