"""Logging in to the screens through an OIDC provider shaped like ProConnect, all over real HTTP:
the test's provider (`tests.oidc_provider`) and a real `parcours serve` in oidc mode. A person
granted a right in the registry follows the redirect chain and reaches the worklist logged in;
a wrong state or a tampered ID token is refused with a French page and no session; a person
with no right gets none; a revoked right is refused at the next request; logout goes through
the provider's end of session; a right granted again is seen at the next login. The provider
itself refuses a PKCE verifier that does not match."""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.oidc import Flow, challenge
from adapters.settings import SECRET_VARIABLES, Settings
from api.web.sessions import COOKIE, FLOW_COOKIE
from tests.e2e.helpers import ROOT, Server, cli_env
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

ADMIN = {
    "sub": "pc-7f3a",
    "email": "Claire.Martin@departement.fr",
    "given_name": "Claire",
    "usual_name": "Martin",
    "siret": "22940028800010",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    found = Provider().start()
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture
def server(settings: Settings, provider: Provider, tmp_path: Path) -> Iterator[Server]:
    """`parcours serve` in oidc mode, its screens' provider the test's."""
    env = {
        "PARCOURS_AUTH_MODE": "oidc",
        "PARCOURS_JWT_SECRET": "",
        "PARCOURS_JWT_ISSUER": provider.issuer,
        "PARCOURS_JWT_AUDIENCE": CLIENT_ID,
        "PARCOURS_JWT_JWKS_URL": f"{provider.issuer}/jwks",
        "PARCOURS_OIDC_ISSUER": provider.issuer,
        "PARCOURS_OIDC_CLIENT_ID": CLIENT_ID,
        "PARCOURS_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        **{name: secrets.token_hex(32) for name in SECRET_VARIABLES},
    }
    found = Server(settings, tmp_path / "server.log", **env)
    try:
        yield found
    finally:
        found.stop_gracefully()


def _droits(settings: Settings, *args: str) -> None:
    """`parcours droits …` on the test's store, as an administrator types it."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "droits", *args],
        cwd=ROOT,
        env={**os.environ, **cli_env(settings)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(autouse=True)
def loopback_is_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send `Secure` cookies to http://127.0.0.1 as browsers do (a loopback address is a
    secure context): the test serves plain http."""
    monkeypatch.setattr(DefaultCookiePolicy, "return_ok_secure", lambda *_: True)


def _browser(server: Server) -> httpx.Client:
    """A client keeping cookies and following redirects as a browser does."""
    return httpx.Client(base_url=server.base_url, timeout=60, follow_redirects=True)


def _login(browser: httpx.Client) -> httpx.Response:
    page = browser.get("/ecrans/connexion")
    assert page.status_code == 200, page.text
    assert "Se connecter avec ProConnect" in page.text
    return browser.get("/ecrans/connexion/oidc")


def _hops(response: httpx.Response) -> list[str]:
    return [str(r.url.copy_with(query=None)) for r in [*response.history, response]]


def test_a_granted_person_logs_in_through_the_provider_until_revoked(
    settings: Settings, provider: Provider, server: Server
) -> None:
    provider.tamper = False
    provider.user = dict(ADMIN)
    with _browser(server) as browser:
        refused = _login(browser)
        assert refused.status_code == 403, refused.text
        assert "Aucun droit ouvert pour votre compte dans parcours" in refused.text
        assert COOKIE not in browser.cookies
        assert browser.get("/ecrans/a-traiter").url.path == "/ecrans/connexion"

    _droits(settings, "accorder", "--agent", "claire.martin@departement.fr", "--role", "admin",
            "--motif", "Administratrice de parcours")  # fmt: skip
    with _browser(server) as browser:
        home = _login(browser)
        assert home.status_code == 200, home.text
        assert _hops(home) == [
            f"{server.base_url}/ecrans/connexion/oidc",
            f"{provider.issuer}/authorize",
            f"{server.base_url}/ecrans/connexion/retour",
            f"{server.base_url}/ecrans/a-traiter",
        ]
        authorize = parse_qs(urlsplit(str(home.history[1].url)).query)
        assert authorize["code_challenge_method"] == ["S256"]
        assert authorize["scope"] == ["openid email given_name usual_name siret idp_id"]
        assert {"state", "nonce", "code_challenge"} <= authorize.keys()
        assert "Connecté : <strong>Claire Martin</strong>" in home.text
        assert "admin" in home.text
        assert FLOW_COOKIE not in browser.cookies

        csrf = home.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = browser.post("/ecrans/deconnexion", data={"csrf": csrf})
        assert out.url.path == "/ecrans/connexion", _hops(out)
        assert f"{provider.issuer}/session/end" in _hops(out)
        ended = provider.ended[-1]
        assert ended["post_logout_redirect_uri"] == f"{server.base_url}/ecrans/connexion"
        assert ended["id_token_hint"].count(".") == 2
        assert "Connecté" not in out.text
        assert browser.get("/ecrans/a-traiter").url.path == "/ecrans/connexion"

    with _browser(server) as browser:
        assert "Connecté : <strong>Claire Martin</strong>" in _login(browser).text
        # the same session, once the right is revoked, is refused at the next request
        _droits(settings, "retirer", "--agent", "claire.martin@departement.fr", "--role",
                "admin", "--motif", "Départ")  # fmt: skip
        revoked = browser.get("/ecrans/a-traiter")
        assert revoked.status_code == 403, revoked.text
        assert "Aucun droit ouvert" in revoked.text
        assert COOKIE not in browser.cookies
        assert browser.get("/ecrans/a-traiter").url.path == "/ecrans/connexion"

    # granted again, by `sub` this time, written by another process while the server runs
    _droits(settings, "accorder", "--agent", ADMIN["sub"], "--role", "admin", "--motif", "Retour")
    with _browser(server) as browser:
        again = _login(browser)
        assert again.status_code == 200, again.text
        assert "Connecté : <strong>Claire Martin</strong>" in again.text


def test_a_wrong_state_or_a_tampered_id_token_opens_no_session(
    provider: Provider, server: Server
) -> None:
    provider.user = dict(ADMIN)
    with _browser(server) as browser:
        browser.follow_redirects = False
        to_provider = browser.get("/ecrans/connexion/oidc")
        assert to_provider.status_code == 302
        back = browser.get(to_provider.headers["location"])
        callback = urlsplit(back.headers["location"])
        code = parse_qs(callback.query)["code"][0]
        wrong = browser.get(
            "/ecrans/connexion/retour", params={"code": code, "state": "pas-le-bon"}
        )
        assert wrong.status_code == 400, wrong.text
        assert "Connexion refusée" in wrong.text
        assert "state" in wrong.text
        assert COOKIE not in browser.cookies

    provider.tamper = True
    try:
        with _browser(server) as browser:
            tampered = _login(browser)
    finally:
        provider.tamper = False
    assert tampered.status_code == 400, tampered.text
    assert "Le fournisseur d&#39;identité n&#39;a pas confirmé qui vous êtes" in tampered.text
    assert "jeton d&#39;identité refusé" in tampered.text
    assert COOKIE not in browser.cookies


def test_the_provider_refuses_a_pkce_verifier_that_does_not_match(provider: Provider) -> None:
    flow = Flow.start()
    redirect_uri = "http://127.0.0.1:9/ecrans/connexion/retour"
    issued = httpx.get(
        f"{provider.issuer}/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": "openid email",
            "state": flow["state"],
            "nonce": flow["nonce"],
            "code_challenge": challenge(flow["verifier"]),
            "code_challenge_method": "S256",
        },
    )
    assert issued.status_code == 302
    code = parse_qs(urlsplit(issued.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    wrong = httpx.post(f"{provider.issuer}/token", data={**form, "code_verifier": "autre"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant"}
