"""Random command sequences through the pure domain: whatever agents key, in whatever order,
`decide` either returns facts or refuses with a domain error naming a code, never crashes, and
the case state keeps its invariants; the state built step by step equals the fold of its log."""

from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.decide import Contexte, decide
from domain.dossier import Dossier, Statut, fold
from domain.errors import DomainError
from domain.events import Evenement, Meta
from tests.strategies import LAST_DAY, History, histories

CTX = Contexte(
    today=date(2025, 6, 30),
    meta=Meta(recorded_at=datetime(2025, 6, 30, tzinfo=UTC), recorded_by="fuzz", request_id="f"),
)

PLAUSIBLE = Contexte(today=LAST_DAY, meta=CTX.meta)
"""The day `histories()` decides on, so the versions it expects are comparable."""

ANY_DAY = st.dates(date(2022, 1, 1), date(2025, 6, 30))
SHORT = st.text(min_size=1, max_size=8)
RANDOM_COMMANDS: st.SearchStrategy[c.Commande] = st.one_of(
    st.builds(
        c.EnregistrerEntree,
        effective_on=ANY_DAY,
        numero_dossier=SHORT,
        date_flux=ANY_DAY,
        date_reception_flux=ANY_DAY,
        profil=st.none(),
    ),
    st.builds(
        c.RouvrirDroit,
        effective_on=ANY_DAY,
        date_flux=ANY_DAY,
        date_reception_flux=ANY_DAY,
        profil=st.none(),
    ),
    *(
        st.builds(kind, effective_on=ANY_DAY)
        for kind in (c.SuspendreDroit, c.ReprendreDroit, c.CloreDroit, c.EnregistrerSortie)
    ),
    st.builds(c.DeciderOrientation, effective_on=ANY_DAY, structure_id=SHORT),
    st.builds(
        c.DeciderReorientation,
        effective_on=ANY_DAY,
        structure_id=SHORT,
        motif=SHORT,
        date_avis_ep=st.none() | ANY_DAY,
    ),
    st.builds(c.DesignerReferent, effective_on=ANY_DAY, referent_id=SHORT),
    st.builds(c.PlanifierRdv, effective_on=ANY_DAY, date_rdv=ANY_DAY),
    st.builds(c.EnregistrerIssueRdv, effective_on=ANY_DAY, numero=st.integers(-2, 8)),
    st.builds(c.SignerCer, effective_on=ANY_DAY, date_debut=ANY_DAY),
    st.builds(c.RenouvelerCer, effective_on=ANY_DAY, date_debut=ANY_DAY),
    st.builds(c.TenirEntretienAsc, effective_on=ANY_DAY, structure_id=SHORT),
    st.builds(c.DeciderSanction, effective_on=ANY_DAY, motif=SHORT),
    st.builds(c.LeverSanction, effective_on=ANY_DAY, numero=st.integers(-2, 8)),
)
"""Any command with any field values the API would let through, in no particular order."""


def check_invariants(before: Dossier, after: Dossier) -> None:
    assert after.existe
    assert after.episode >= 1
    assert after.date_entree is not None
    assert before.episode <= after.episode <= before.episode + 1
    if after.statut is Statut.ORIENTE:
        assert after.orientation is not None
    if after.referent_id is not None:
        assert after.orientation is not None
    assert sorted(after.rdvs) == list(range(1, len(after.rdvs) + 1))
    assert set(before.rdvs) <= set(after.rdvs)
    assert after.nb_sanctions >= before.nb_sanctions
    assert after.sanctions_en_cours <= set(range(1, after.nb_sanctions + 1))
    assert after.nb_cer >= before.nb_cer
    if after.cer is not None:
        assert 1 <= after.cer.numero <= after.nb_cer
        assert after.cer.date_debut < after.cer.date_fin


def run(
    commands: list[c.Commande], ctx: Contexte = CTX
) -> tuple[Dossier, list[Evenement], list[DomainError]]:
    """Push each command through decide; returns the state, the log, and the refusals."""
    state, log, refused = Dossier(), [], []
    for command in commands:
        try:
            events = decide(state, command, ctx)
        except DomainError as e:
            refused.append(e)
            continue
        assert events, command
        assert decide(state, command, ctx) == events  # pure: same state, same facts
        after = fold(events, state)
        check_invariants(state, after)
        state = after
        log.extend(events)
    return state, log, refused


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands=st.lists(RANDOM_COMMANDS, max_size=40))
def test_any_command_sequence_is_decided_or_refused_and_keeps_the_invariants(
    commands: list[c.Commande],
) -> None:
    state, log, refused = run(commands)
    assert fold(log) == state
    assert len(log) >= len(commands) - len(refused)
    assert all(e.code and e.detail for e in refused)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(max_cases=3, max_steps=80))
def test_plausible_paths_keep_the_invariants_case_by_case(history: History) -> None:
    for case in range(history.cases):
        commands = [command for i, command in history.steps if i == case]
        state, log, _ = run(commands, PLAUSIBLE)
        assert fold(log) == state
        assert len(log) == history.versions[case]
