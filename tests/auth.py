"""Tokens for the tests, signed with the local development key the test settings carry.

`bearer(Role.AGENT, structures=["ccas-creteil"], sub="agent-7")` gives the headers of an agent of
the CCAS of Créteil; `STAFF` holds every case role at once, for tests about something else than
access (the default headers of the test clients)."""

import time
from collections.abc import Iterable
from typing import Any

import jwt

from api.http.auth import Role

TEST_SECRET = "tests-only-local-signing-key-0123456789abcdef"
"""Given to the test settings as PARCOURS_JWT_SECRET (local mode)."""
ISSUER = "parcours-local"
AUDIENCE = "parcours"


def token(
    *roles: Role,
    structures: Iterable[str] = (),
    sub: str = "test-user",
    ttl: int = 24 * 3600,
    secret: str = TEST_SECRET,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now,
        "exp": now + ttl,
        "roles": [r.value for r in roles],
        "structures": list(structures),
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(
    *roles: Role, structures: Iterable[str] = (), sub: str = "test-user", **kw: Any
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*roles, structures=structures, sub=sub, **kw)}"}


STAFF = bearer(Role.ORIENTATION, Role.FLUX, Role.AUDITEUR, Role.AGENT, sub="staff")
"""Every role the case routes admit, département-wide."""
