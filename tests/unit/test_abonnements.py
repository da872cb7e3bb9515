"""The rules of partners' subscriptions: what is refused (naming the field), what is
recorded, and the register folded from its events."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.abonnements import Abonnements, Finalite, abonner, desabonner
from domain.errors import DomainError
from domain.events import Meta

META = Meta(
    recorded_at=datetime(2026, 3, 2, 9, tzinfo=UTC), recorded_by="admin-1", request_id="r-1"
)
TODAY = date(2026, 3, 2)
GOOD: dict[str, Any] = {
    "url": "https://partenaire.example/hooks",
    "secret_scelle": "v1:xyz",
    "types": ["RdvPlanifie", "OrientationDecidee", "RdvPlanifie"],
    "structures": ["ccas-creteil"],
    "finalite": Finalite.SUIVI,
    "position_depart": 0,
    "motif": "Suivi des RDV",
}


def _subscribe(register: Abonnements, **changes: Any) -> Any:
    return abonner(register, **{**GOOD, **changes}, meta=META, today=TODAY)


def test_a_subscription_is_recorded_and_folded() -> None:
    register = Abonnements()
    created = _subscribe(register)
    assert created.abonnement_id == "abonnement-1"
    assert created.types == ["OrientationDecidee", "RdvPlanifie"]
    register.evolve(created)
    [subscription] = register.actifs()
    assert subscription.cree_par == "admin-1"
    assert subscription.structures == ["ccas-creteil"]
    assert _subscribe(register, structures=None).abonnement_id == "abonnement-2"

    ended = desabonner(register, abonnement_id="abonnement-1", motif="Fin", meta=META, today=TODAY)
    register.evolve(ended)
    assert register.actifs() == []
    assert register.all()[0].suppression is not None
    with pytest.raises(DomainError) as again:
        desabonner(register, abonnement_id="abonnement-1", motif="Fin", meta=META, today=TODAY)
    assert again.value.field == "abonnement_id"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://partenaire.example"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://p.example/a b"}, "url"),
        ({"types": []}, "types"),
        ({"types": ["RdvPlanifie", "DroitAccorde"]}, "types[1]"),
        ({"types": ["AbonnementCree"]}, "types[0]"),
        ({"structures": []}, "structures"),
        ({"structures": ["ccas creteil"]}, "structures[0]"),
        ({"motif": "  "}, "motif"),
        ({"position_depart": -1}, "position_depart"),
    ],
)
def test_a_subscription_nothing_could_be_sent_to_is_refused(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        _subscribe(Abonnements(), **changes)
    assert refused.value.field == field


def test_an_unknown_subscription_cannot_end() -> None:
    with pytest.raises(DomainError) as refused:
        desabonner(Abonnements(), abonnement_id="abonnement-9", motif="x", meta=META, today=TODAY)
    assert refused.value.field == "abonnement_id"
