"""The département's stable pseudonymisation key, from the environment or the settings, else
from a local key file (kept owner-only, created on first use)."""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from adapters.private_files import read_or_create_secret
from adapters.settings import Settings

KEY_ENV = "PARCOURS_CLE_PSEUDONYMISATION"
KEY_FILE = "cle_pseudonymisation.key"


def stable_key(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes:
    """The département's key: from the environment (hex), else (local mode only: production
    refuses to start without the variable) from a file under the data directory, created with
    256 random bits and owner-only rights on first use."""
    env = os.environ if environ is None else environ
    raw = env.get(KEY_ENV, "").strip() or settings.cle_pseudonymisation
    if raw:
        key = bytes.fromhex(raw)
        if len(key) < 16:
            msg = f"{KEY_ENV} must hold at least 16 bytes (32 hex characters)"
            raise ValueError(msg)
        return key
    path = Path(settings.data_dir) / KEY_FILE
    return bytes.fromhex(read_or_create_secret(path, lambda: secrets.token_hex(32)))
