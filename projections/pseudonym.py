"""Pseudonymisation of extracts: what replaces the identifying parts of a path.

The person key is an HMAC-SHA256 of the case id under a key the département holds: the same
person gets the same key within an extract (and across extracts when the key is kept), and no
one without the key can go back to the case or test a guess. Pure: the key is given.
"""

import hashlib
import hmac
from enum import StrEnum
from uuid import UUID


class NiveauCommune(StrEnum):
    """How precisely the commune of residence leaves."""

    COMMUNE = "commune"
    DEPARTEMENT = "departement"
    AUCUNE = "aucune"


def cle_personne(cle: bytes, case_id: UUID) -> str:
    """The person's key in an extract: 32 hex characters (128 bits) of the keyed hash."""
    return hmac.new(cle, case_id.bytes, hashlib.sha256).hexdigest()[:32]


def commune_publiee(code: str | None, niveau: NiveauCommune) -> str | None:
    """The commune as the extract gives it: as is, its département (3 characters overseas,
    2 in Corsica as 2A/2B and elsewhere), or nothing."""
    if code is None or niveau is NiveauCommune.AUCUNE:
        return None
    if niveau is NiveauCommune.COMMUNE:
        return code
    return code[:3] if code.startswith("97") else code[:2]
