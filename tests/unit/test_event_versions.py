"""Event schema versions, on a test-only event type whose shape changed twice: each stored
version reads as today's shape through the chain of upcasters, the current one straight into
its class; a gap or a stray step in a chain is refused when the decoders are built."""

from datetime import UTC, date, datetime
from typing import ClassVar

import msgspec
import pytest

from adapters.eventlog.mapper import (
    CODEC,
    Codec,
    NewerEventVersion,
    Upcasting,
    parse_topic,
    versioned_topic,
)
from domain.catalogue import ALL_EVENT_TYPES
from domain.events import Evenement, Meta
from domain.upcasters import UPCASTERS, BrokenChain, Payload, chains


class Essai(Evenement, frozen=True, kw_only=True):
    """Version 3. Version 1 stored `nom` (one string "Prénom Nom"); version 2 split it into
    `prenom` and `nom`; version 3 renamed `nom` to `nom_usage` and added `rang` (1 when
    unknown)."""

    schema_version: ClassVar[int] = 3

    prenom: str
    nom_usage: str
    rang: int


def v1_to_v2(p: Payload) -> Payload:
    prenom, _, nom = p.pop("nom").partition(" ")
    return {**p, "prenom": prenom, "nom": nom}


def v2_to_v3(p: Payload) -> Payload:
    return {**p, "nom_usage": p.pop("nom"), "rang": 1}


STEPS = {(Essai, 1): v1_to_v2, (Essai, 2): v2_to_v3}
META = Meta(recorded_at=datetime(2024, 1, 2, 9, tzinfo=UTC), recorded_by="a", request_id="r")
TODAY = Essai(effective_on=date(2024, 1, 2), meta=META, prenom="Anne", nom_usage="Martin", rang=1)
COMMON = (
    b'"type":"Essai","effective_on":"2024-01-02","meta":{"recorded_at":"2024-01-02T09:00:00Z",'
    b'"recorded_by":"a","request_id":"r"}'
)


def test_every_stored_version_reads_as_todays_shape() -> None:
    codec = Codec([Essai], STEPS)
    v1 = b"{" + COMMON + b',"nom":"Anne Martin"}'
    v2 = b"{" + COMMON + b',"prenom":"Anne","nom":"Martin"}'
    v3 = msgspec.json.encode(TODAY)
    assert codec.decode("Essai", v1) == TODAY
    assert codec.decode("Essai@2", v2) == TODAY
    assert codec.decode("Essai@3", v3) == TODAY
    assert codec.topic_of(Essai) == "Essai@3"
    assert codec.topics_of([Essai]) == ["Essai", "Essai@2", "Essai@3"]


def test_the_current_version_decodes_straight_into_its_class() -> None:
    codec = Codec([Essai], STEPS)
    assert isinstance(codec.decoders["Essai@3"], msgspec.json.Decoder)
    assert isinstance(codec.decoders["Essai"], Upcasting)
    assert all(isinstance(d, msgspec.json.Decoder) for d in CODEC.decoders.values())


def test_an_upcast_payload_is_validated_as_todays_class() -> None:
    def forgets_rang(p: Payload) -> Payload:
        return {**p, "nom_usage": p.pop("nom")}

    codec = Codec([Essai], {(Essai, 1): v1_to_v2, (Essai, 2): forgets_rang})
    with pytest.raises(msgspec.ValidationError, match="rang"):
        codec.decode("Essai@2", b"{" + COMMON + b',"prenom":"Anne","nom":"Martin"}')


def test_a_newer_version_names_what_this_release_reads() -> None:
    codec = Codec([Essai], STEPS)
    with pytest.raises(
        NewerEventVersion, match=r"position 42.*version 4 of Essai.*up to version 3"
    ):
        codec.decode("Essai@4", b"{}", position=42)
    with pytest.raises(KeyError):
        codec.decode("Autre", b"{}")


def test_a_chain_with_a_gap_or_a_stray_step_is_refused() -> None:
    with pytest.raises(BrokenChain, match="no upcaster from version 2 to 3"):
        Codec([Essai], {(Essai, 1): v1_to_v2})
    with pytest.raises(BrokenChain, match="from version 3 of Essai"):
        Codec([Essai], {**STEPS, (Essai, 3): v2_to_v3})
    with pytest.raises(BrokenChain):
        chains({Essai: 0}, {})


def test_topics_say_the_version_and_version_one_is_the_bare_name() -> None:
    assert versioned_topic("OrientationDecidee", 1) == "OrientationDecidee"
    assert versioned_topic("OrientationDecidee", 2) == "OrientationDecidee@2"
    assert parse_topic("OrientationDecidee") == ("OrientationDecidee", 1)
    assert parse_topic("OrientationDecidee@12") == ("OrientationDecidee", 12)
    for odd in ("X@", "X@1", "X@02", "X@deux", "X@-3"):
        assert parse_topic(odd) is None, odd


def test_this_releases_chains_are_whole() -> None:
    """Every type's declared version has its steps (the store's codec is built at import)."""
    chains({kind: kind.schema_version for kind in ALL_EVENT_TYPES}, UPCASTERS)
    assert set(CODEC.versions) == set(ALL_EVENT_TYPES)
