"""The screens' session cookie: signed, refused once forged, over after its idle time."""

from pathlib import Path

import itsdangerous.timed
import pytest
from starlette.requests import Request
from starlette.responses import Response

from adapters.settings import Settings
from api.http.auth import Principal, Role
from api.web.sessions import COOKIE, IDLE_SECONDS, Sessions, csrf_matches, opened
from tests.auth import TEST_SECRET

AGENT = Principal(sub="agent-7", roles=frozenset({Role.AGENT}), structures=frozenset({"ccas"}))


def _sessions(tmp_path: Path) -> Sessions:
    return Sessions(
        Settings.from_env({"PARCOURS_DATA_DIR": str(tmp_path), "PARCOURS_JWT_SECRET": TEST_SECRET})
    )


def _request(cookie: str) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def _cookie(sessions: Sessions) -> str:
    response = Response()
    sessions.write(response, opened(AGENT))
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


def test_a_session_reads_back_its_principal_and_csrf_token(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    session = sessions.read(_request(_cookie(sessions)))
    assert session is not None
    assert session.principal == AGENT
    assert csrf_matches(session, session.csrf)
    assert not csrf_matches(session, "autre")
    assert not csrf_matches(session, None)


def test_a_forged_cookie_is_no_session(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    cookie = _cookie(sessions)
    assert sessions.read(_request(cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))) is None


def test_a_session_idle_longer_than_the_limit_is_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = _sessions(tmp_path)
    cookie = _cookie(sessions)
    now = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + IDLE_SECONDS - 5)
    assert sessions.read(_request(cookie)) is not None
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + IDLE_SECONDS + 5)
    assert sessions.read(_request(cookie)) is None


def test_outside_local_mode_the_cookie_is_secure(tmp_path: Path) -> None:
    settings = Settings.from_env({"PARCOURS_DATA_DIR": str(tmp_path), "PARCOURS_AUTH_MODE": "oidc"})
    response = Response()
    Sessions(settings).write(response, opened(AGENT))
    cookie = response.headers["set-cookie"].lower()
    assert "; secure" in cookie
    assert "; httponly" in cookie
    assert "samesite=lax" in cookie
