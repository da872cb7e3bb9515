"""The département's key that signs the log's checkpoints (Ed25519), from the settings, else
(local mode only: production refuses to start without it) from a local key file created on
first use; and the check of a checkpoint's signature against a public key."""

import secrets
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapters.eventlog.chain import PointDeControle
from adapters.private_files import read_or_create_secret
from adapters.settings import Settings

KEY_ENV = "PARCOURS_CLE_POINTS_CONTROLE"
KEY_FILE = "cle_points_controle.key"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The private key: its 32-byte seed in hexadecimal from `PARCOURS_CLE_POINTS_CONTROLE`,
    else (local mode) from a file under the data directory, created owner-only."""
    raw = settings.cle_points_controle
    if not raw and settings.auth_mode != "local":
        msg = f"{KEY_ENV} : absente (la production ne signe pas avec une clé de fichier local)"
        raise ValueError(msg)
    if not raw:
        path = Path(settings.data_dir) / KEY_FILE
        raw = read_or_create_secret(path, lambda: secrets.token_hex(32))
    try:
        seed = bytes.fromhex(raw)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        msg = f"{KEY_ENV} : 64 caractères hexadécimaux attendus (32 octets)"
        raise ValueError(msg)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_hex(key: Ed25519PrivateKey) -> str:
    """The public key that verifies this key's signatures, hexadecimal (32 bytes)."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign(key: Ed25519PrivateKey, point: PointDeControle) -> PointDeControle:
    """The checkpoint with its public key and signature."""
    named = msgspec.structs.replace(point, cle=public_hex(key), signature="")
    return msgspec.structs.replace(named, signature=key.sign(named.message()).hex())


def signature_valid(point: PointDeControle, public: str) -> bool:
    """Whether the checkpoint was signed by the key `public` (hexadecimal) as it reads now."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            bytes.fromhex(point.signature), point.message()
        )
    except (InvalidSignature, ValueError):
        return False
    return True
