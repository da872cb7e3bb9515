"""The registry of agents' rights: the rules of a grant and a revocation, and the fold that
gives a person's active roles and structures on a day."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.agents import (
    DroitAccorde,
    Droits,
    Registre,
    RoleAgent,
    accorder,
    retirer,
)
from domain.errors import DomainError
from domain.events import Meta

TODAY = date(2024, 6, 1)
META = Meta(recorded_at=datetime(2024, 6, 1, 9, tzinfo=UTC), recorded_by="admin-1", request_id="r")


def _grant(registre: Registre, **fields: Any) -> DroitAccorde:
    args: dict[str, Any] = {
        "agent": "S-123",
        "role": RoleAgent.AGENT,
        "structures": ["ccas-creteil"],
        "du": date(2024, 1, 1),
        "au": None,
        "motif": "référente RSA",
    }
    event = accorder(registre, **(args | fields), meta=META, today=TODAY)
    registre.evolve(event)
    return event


@contextmanager
def _refused(field: str, code: str) -> Iterator[None]:
    with pytest.raises(DomainError) as caught:
        yield
    assert (caught.value.field, caught.value.code) == (field, code), caught.value.detail


def test_a_grant_gives_its_role_and_structures_from_its_first_day_to_its_last() -> None:
    registre = Registre()
    event = _grant(registre, au=date(2024, 12, 31))
    assert event.droit_id == "droit-1"
    assert registre.droits_a(date(2023, 12, 31), "S-123") == Droits()
    active = registre.droits_a(TODAY, "S-123")
    assert active.roles == {RoleAgent.AGENT}
    assert active.structures == {"ccas-creteil"}
    assert registre.droits_a(date(2024, 12, 31), "S-123").roles == {RoleAgent.AGENT}
    assert registre.droits_a(date(2025, 1, 1), "S-123") == Droits()
    droit = registre.all()[0]
    assert (droit.accorde_par, droit.accorde_le) == ("admin-1", META.recorded_at)


def test_rights_add_up_and_an_email_matches_without_case() -> None:
    registre = Registre()
    _grant(registre, agent="Marie.Dupont@CCAS.fr")
    _grant(registre, agent="marie.dupont@ccas.fr", structures=["aave-77"])
    _grant(registre, agent="marie.dupont@ccas.fr", role=RoleAgent.AUDITEUR, structures=[])
    found = registre.droits_a(TODAY, "another-sub", "MARIE.dupont@ccas.fr")
    assert found.roles == {RoleAgent.AGENT, RoleAgent.AUDITEUR}
    assert found.structures == {"ccas-creteil", "aave-77"}
    assert registre.droits_a(TODAY, "another-sub", None) == Droits()


def test_a_revocation_ends_the_right_from_its_day() -> None:
    registre = Registre()
    _grant(registre)
    _grant(registre, role=RoleAgent.ORIENTATION, structures=[])
    for event in retirer(
        registre, droit_id="droit-1", agent=None, role=None, motif="départ", meta=META, today=TODAY
    ):
        registre.evolve(event)
    assert registre.droits_a(date(2024, 5, 31), "S-123").roles == {
        RoleAgent.AGENT,
        RoleAgent.ORIENTATION,
    }
    assert registre.droits_a(TODAY, "S-123") == Droits(roles=frozenset({RoleAgent.ORIENTATION}))
    retrait = registre.all()[0].retrait
    assert retrait is not None
    assert (retrait.le, retrait.par) == (TODAY, "admin-1")


def test_revoking_by_agent_and_role_revokes_each_active_right_of_that_role() -> None:
    registre = Registre()
    _grant(registre)
    _grant(registre, structures=["aave-77"])
    _grant(registre, role=RoleAgent.ADMIN, structures=[])
    events = retirer(
        registre,
        droit_id=None,
        agent="S-123",
        role=RoleAgent.AGENT,
        motif="m",
        meta=META,
        today=TODAY,
    )
    assert [e.droit_id for e in events] == ["droit-1", "droit-2"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"structures": []}, "structures", "structures_requises"),
        ({"au": date(2023, 12, 31)}, "au", "au_avant_du"),
        ({"agent": ""}, "agent", "agent_invalide"),
        ({"agent": "a b"}, "agent", "agent_invalide"),
        ({"agent": "x" * 300}, "agent", "agent_invalide"),
        ({"motif": " "}, "motif", "motif_requis"),
        ({"du": date(2999, 1, 1)}, "du", "date_hors_limites"),
        ({"structures": ["bad id"]}, "structures[0]", "caractere_interdit"),
        ({"motif": "x\x00"}, "motif", "caractere_interdit"),
    ],
)
def test_a_grant_no_one_could_use_is_refused_naming_the_field(
    fields: dict[str, Any], field: str, code: str
) -> None:
    with _refused(field, code):
        _grant(Registre(), **fields)


def test_revoking_an_unknown_or_revoked_right_is_refused_naming_the_field() -> None:
    registre = Registre()
    _grant(registre)

    def revoke(**fields: Any) -> None:
        args: dict[str, Any] = {"droit_id": None, "agent": None, "role": None, "motif": "m"}
        for event in retirer(registre, **(args | fields), meta=META, today=TODAY):
            registre.evolve(event)

    with _refused("droit_id", "droit_inconnu"):
        revoke(droit_id="droit-9")
    with _refused("agent", "droit_inconnu"):
        revoke(agent="S-123", role=RoleAgent.ADMIN)
    with _refused("droit_id", "droit_non_designe"):
        revoke(agent="S-123")
    revoke(droit_id="droit-1")
    with _refused("droit_id", "droit_deja_retire"):
        revoke(droit_id="droit-1")
    with _refused("agent", "droit_inconnu"):
        revoke(agent="S-123", role=RoleAgent.AGENT)
