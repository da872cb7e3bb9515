"""The screens' OIDC login settings: read from the environment, checked for production with the
other secrets, and the session key shared by every process that has the same secret."""

import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from adapters.oidc import challenge
from adapters.settings import OIDC_SCOPES, Settings
from api.http.auth import Principal, Role
from api.web.sessions import COOKIE, Sessions, opened

ADMIN = Principal(sub="pc-1", roles=frozenset({Role.ADMIN}), structures=frozenset())


def test_the_provider_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "PARCOURS_OIDC_ISSUER": "https://proconnect.example/api/v2/",
            "PARCOURS_OIDC_CLIENT_ID": "parcours-94",
            "PARCOURS_OIDC_CLIENT_SECRET": "s3cret",
            "PARCOURS_OIDC_REDIRECT_URI": "https://parcours.example/ecrans/connexion/retour",
            "PARCOURS_SESSION_SECRET": "ab" * 32,
        }
    )
    assert settings.oidc_issuer == "https://proconnect.example/api/v2"
    assert (settings.oidc_client_id, settings.oidc_client_secret) == ("parcours-94", "s3cret")
    assert settings.oidc_redirect_uri == "https://parcours.example/ecrans/connexion/retour"
    assert settings.oidc_scopes == OIDC_SCOPES
    assert " ".join(OIDC_SCOPES) == "openid email given_name usual_name siret idp_id"
    assert Settings.from_env({"PARCOURS_OIDC_SCOPES": "openid email"}).oidc_scopes == (
        "openid",
        "email",
    )


def test_production_names_an_incomplete_or_plain_http_provider() -> None:
    base = Settings.from_env({"PARCOURS_AUTH_MODE": "oidc"})
    incomplete = Settings.from_env(
        {"PARCOURS_AUTH_MODE": "oidc", "PARCOURS_OIDC_ISSUER": "http://idp.example"}
    )
    added = [p for p in incomplete.production_problems() if p not in base.production_problems()]
    assert [p.split(" : ")[0] for p in added] == [
        "PARCOURS_OIDC_CLIENT_ID",
        "PARCOURS_OIDC_CLIENT_SECRET",
        "PARCOURS_OIDC_ISSUER",
    ]
    no_openid = Settings.from_env(
        {
            "PARCOURS_AUTH_MODE": "oidc",
            "PARCOURS_OIDC_ISSUER": "https://idp.example",
            "PARCOURS_OIDC_CLIENT_ID": "c",
            "PARCOURS_OIDC_CLIENT_SECRET": "s",
            "PARCOURS_OIDC_SCOPES": "email",
        }
    )
    added = [p for p in no_openid.production_problems() if p not in base.production_problems()]
    assert added == ["PARCOURS_OIDC_SCOPES : « openid » attendu"]


def test_processes_with_one_session_secret_read_each_other_s_sessions(tmp_path: Path) -> None:
    env = {"PARCOURS_DATA_DIR": str(tmp_path), "PARCOURS_AUTH_MODE": "oidc"}
    shared = {**env, "PARCOURS_SESSION_SECRET": secrets.token_hex(32)}
    response = Response()
    Sessions(Settings.from_env(shared)).write(response, opened(ADMIN, name="Claire Martin"))
    cookie = response.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())]
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": headers})
    read = Sessions(Settings.from_env(shared)).read(request)
    assert read is not None
    assert (read.principal, read.name) == (ADMIN, "Claire Martin")
    assert Sessions(Settings.from_env(env)).read(request) is None


def test_the_pkce_challenge_is_s256_base64url_without_padding() -> None:
    made = challenge("a-verifier")  # printf a-verifier | openssl dgst -sha256 -binary | base64url
    assert made == "NORfwpEYKakZsuYgaey8PFmACPx5Ikq_PyZGYQ7p8NI"
    assert len(made) == 43
    assert "=" not in made
