"""Standard Webhooks signatures as parcours makes them (the specification's own test vector),
what a receiver refuses, secrets given or generated, and a secret sealed for the log."""

import base64

import pytest

from adapters.settings import Settings
from adapters.webhooks.signing import (
    InvalidSecret,
    Sealer,
    headers,
    new_secret,
    secret_key,
    sign,
    verify,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_the_specification_test_vector() -> None:
    assert sign(secret_key(SECRET), MSG_ID, TIMESTAMP, BODY) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_receiver_accepts_the_headers_and_refuses_any_change() -> None:
    sent = headers(secret_key(SECRET), MSG_ID, TIMESTAMP, BODY)
    assert verify(SECRET, sent, BODY, TIMESTAMP + 10)
    assert not verify(SECRET, sent, BODY.replace(b"2", b"3", 1), TIMESTAMP)
    assert not verify(SECRET, {**sent, "webhook-id": "msg_other"}, BODY, TIMESTAMP)
    assert not verify(new_secret(), sent, BODY, TIMESTAMP)
    assert not verify(SECRET, sent, BODY, TIMESTAMP + 3600), "an old delivery replayed"
    assert not verify(SECRET, {"webhook-id": MSG_ID}, BODY, TIMESTAMP)
    several = {**sent, "webhook-signature": "v1,bm9wZQ== " + sent["webhook-signature"]}
    assert verify(SECRET, several, BODY, TIMESTAMP), "a rotation lists two signatures"


def test_generated_secrets_follow_the_convention() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == 32
    assert new_secret() != secret


@pytest.mark.parametrize(
    "secret",
    ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_" + "QUJD", "whsec_"],
)
def test_a_given_secret_that_is_not_one_is_refused(secret: str) -> None:
    with pytest.raises(InvalidSecret):
        secret_key(secret)


def test_a_sealed_secret_opens_only_for_its_subscription_and_master_key() -> None:
    sealer = Sealer(Settings.from_env({"PARCOURS_IDENTITY_MASTER_KEY": "a" * 64}))
    sealed = sealer.seal(SECRET, "abonnement-1")
    assert SECRET not in sealed
    assert SECRET.removeprefix("whsec_") not in base64.b64decode(sealed[3:]).decode("latin-1")
    assert sealer.open(sealed, "abonnement-1") == SECRET
    with pytest.raises(InvalidSecret):
        sealer.open(sealed, "abonnement-2")
    other = Sealer(Settings.from_env({"PARCOURS_IDENTITY_MASTER_KEY": "b" * 64}))
    with pytest.raises(InvalidSecret):
        other.open(sealed, "abonnement-1")
