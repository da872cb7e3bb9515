"""Hypothesis strategies: random command sequences over a few cases, in the past.

Commands are drawn with dates near START; `at` moves one to a running day, so histories advance
in time the way agents key them (the rules then refuse only what is really out of order).
"""

from datetime import date, timedelta
from typing import Any

import msgspec
from hypothesis import strategies as st

from domain import commands as c
from domain.vocabulary import (
    IssueRdv,
    ModeRdv,
    MotifCloture,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)

START = date(2023, 1, 1)
days = st.integers(min_value=0, max_value=30).map(lambda n: START + timedelta(days=n))
structures = st.sampled_from(["ccas-1", "ccas-2", "mds-1", "ft-1", "aave-1"])


def _command(kind: type[c.Commande], **fields: Any) -> st.SearchStrategy[c.Commande]:
    return st.builds(kind, effective_on=st.just(START), **fields)


def at(command: c.Commande, day: date) -> c.Commande:
    """The same command with every date moved by `day - START`."""
    shift = day - START
    moved = {
        name: value + shift
        for name in command.__struct_fields__
        if isinstance(value := getattr(command, name), date)
    }
    return msgspec.structs.replace(command, **moved)


_ALL: list[st.SearchStrategy[c.Commande]] = [
    _command(
        c.EnregistrerEntree,
        numero_dossier=st.just("CAF-1"),
        organisme_payeur=st.sampled_from(OrganismePayeur),
        date_flux=st.just(START),
        date_reception_flux=st.just(START),
    ),
    _command(c.RouvrirDroit, date_flux=days, date_reception_flux=days),
    _command(c.SuspendreDroit),
    _command(c.ReprendreDroit),
    _command(c.CloreDroit, motif=st.sampled_from(MotifCloture)),
    _command(
        c.DeciderOrientation,
        type_orientation=st.sampled_from(TypeOrientation),
        organisme=st.sampled_from(TypeOrganisme),
        structure_id=structures,
    ),
    _command(
        c.DeciderReorientation,
        type_orientation=st.sampled_from(TypeOrientation),
        organisme=st.sampled_from(TypeOrganisme),
        structure_id=structures,
        motif=st.just("réorientation"),
    ),
    _command(c.DesignerReferent, referent_id=st.sampled_from(["ref-1", "ref-2"])),
    _command(
        c.PlanifierRdv,
        type_rdv=st.sampled_from(TypeRdv),
        mode=st.sampled_from(ModeRdv),
        date_rdv=days,
    ),
    _command(c.EnregistrerIssueRdv, numero=st.integers(1, 4), issue=st.sampled_from(IssueRdv)),
    _command(c.SignerCer, date_debut=days, duree_mois=st.sampled_from([6, 9, 12])),
    _command(c.RenouvelerCer, date_debut=days, duree_mois=st.sampled_from([6, 9, 12])),
    _command(c.TenirEntretienAsc, structure_id=structures),
    _command(c.EnregistrerSortie, type_sortie=st.sampled_from(TypeSortie)),
    _command(
        c.DeciderSanction, type_sanction=st.sampled_from(TypeSanction), motif=st.just("manquement")
    ),
    _command(c.LeverSanction, numero=st.integers(1, 3)),
]
# Steps that make a path deep (orientation, RDV, outcome, CER, référent) are drawn more often
# than those that end it: each list entry's weight, in `_ALL` order.
_WEIGHTS = [1, 1, 1, 1, 1, 4, 1, 2, 4, 4, 2, 2, 1, 1, 1, 1]
COMMANDS: st.SearchStrategy[c.Commande] = st.one_of(
    [strategy for strategy, weight in zip(_ALL, _WEIGHTS, strict=True) for _ in range(weight)]
)


# (case index, command, days since the previous step, catch up after it?)
STEPS = st.lists(
    st.tuples(st.integers(0, 3), COMMANDS, st.integers(0, 15), st.booleans()),
    min_size=5,
    max_size=60,
)
