"""Configuration, read once from the environment (every variable is listed in the README)."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec
import structlog

from adapters.private_files import private_sqlite

Store = Literal["sqlite", "postgres"]
AuthMode = Literal["local", "oidc"]

DEV_IDENTITY_INDEX_SECRET = "dev-only-index-secret"  # noqa: S105 (development default)
DEV_IDENTITY_MASTER_KEY = "dev-only-master-key"
LOCAL_ISSUER = "parcours-local"
OIDC_SCOPES = ("openid", "email", "given_name", "usual_name", "siret", "idp_id")
"""What the screens ask ProConnect for (its documented scopes); `PARCOURS_OIDC_SCOPES` changes it."""
SECRET_BYTES = 32
"""Least size of each production secret: 32 random bytes, written as 64 hexadecimal digits."""
SECRET_VARIABLES = (
    "PARCOURS_IDENTITY_MASTER_KEY",
    "PARCOURS_IDENTITY_INDEX_SECRET",
    "PARCOURS_CLE_PSEUDONYMISATION",
    "PARCOURS_SESSION_SECRET",
    "PARCOURS_CLE_POINTS_CONTROLE",
)
_warned_development_keys = False


class UnsafeSettings(ValueError):
    """Production settings that would leave personal data readable or tokens forgeable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = [
            "parcours : démarrage refusé en production (PARCOURS_AUTH_MODE=oidc), "
            "voir docs/security.md (« Production checklist ») :",
            *(f"  - {problem}" for problem in problems),
        ]
        super().__init__("\n".join(lines))


def secret_problem(value: str) -> str | None:
    """Why a production secret is not one, or None: it must be 32 random bytes or more,
    in hexadecimal (`python3 -c "import secrets; print(secrets.token_hex(32))"`)."""
    raw = value.strip()
    if not raw:
        return "absente ou vide"
    if raw in (DEV_IDENTITY_MASTER_KEY, DEV_IDENTITY_INDEX_SECRET):
        return "absente ou égale à la valeur de développement"
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        return (
            f"pas en hexadécimal ({SECRET_BYTES} octets aléatoires, soit "
            f"{2 * SECRET_BYTES} caractères hexadécimaux, attendus)"
        )
    if len(key) < SECRET_BYTES:
        return (
            f"trop courte : {len(key)} octets, au moins {SECRET_BYTES} attendus "
            f"({2 * SECRET_BYTES} caractères hexadécimaux)"
        )
    if len(set(key)) < SECRET_BYTES // 2:
        return "pas aléatoire (motif répété ou valeur d'exemple)"
    return None


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    store: Store = "sqlite"
    data_dir: Path = Path("data")
    sqlite_path: Path | None = None
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_password: str = ""
    postgres_dbname: str = "parcours"
    postgres_schema: str = "public"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_level: str = "INFO"
    timezone: str = "Europe/Paris"
    poll_interval: float = 0.5
    projection_batch: int = 2000
    rebuild_workers: int = 2
    """Processes folding the log in a full rebuild on PostgreSQL (one per core)."""
    health_max_lag: int = 100_000
    """Events a read model may lag the log before health says degraded."""
    identity_index_secret: str = DEV_IDENTITY_INDEX_SECRET
    """Département secret of the blind index (HMAC of organisme, file number and NIR)."""
    identity_master_key: str = DEV_IDENTITY_MASTER_KEY
    """Wraps each person's identity key; set both secrets in production."""
    cle_pseudonymisation: str = ""
    """The département's stable key of extracts (hex); unset, a key file in the data dir."""
    cle_points_controle: str = ""
    """Seed of the Ed25519 key signing the log's checkpoints (64 hex digits); unset, a key
    file in the data dir (local mode only)."""
    auth_mode: AuthMode = "local"
    jwt_secret: str = ""
    jwt_issuer: str = LOCAL_ISSUER
    jwt_audience: str = "parcours"
    jwt_jwks_url: str = ""
    jwt_public_key_file: Path | None = None
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")
    oidc_issuer: str = ""
    """The screens' identity provider (ProConnect or compatible); discovery is read from
    `{oidc_issuer}/.well-known/openid-configuration`. Unset, the screens offer no login."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_redirect_uri: str = ""
    """The callback's absolute URL as registered with the provider; unset, derived from the
    request (`…/ecrans/connexion/retour`)."""
    oidc_scopes: tuple[str, ...] = OIDC_SCOPES
    session_secret: str = ""
    """Signs the screens' session cookie outside local mode (64 hex digits, required there)."""
    rdvi_secrets: tuple[tuple[str, str], ...] = ()
    """rdv-insertion's webhook endpoints: (label, shared secret) pairs; one label may appear
    twice while its secret is rotated. Empty: `POST /connecteurs/rdv-insertion` refuses all."""
    rdvi_retention_days: int = 180
    """Days a processed rdv-insertion delivery is kept in the inbox (it holds personal data)."""
    identity_retention_days: int = 730
    """Days a person's identity is kept after their path ended (exit or closure), then erased
    by `parcours retention run` (docs/ops/retention.md)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        store = env.get("PARCOURS_STORE", "sqlite").strip().lower()
        if store not in ("sqlite", "postgres"):
            msg = f"PARCOURS_STORE must be 'sqlite' or 'postgres', not {store!r}"
            raise ValueError(msg)
        raw_sqlite = env.get("PARCOURS_SQLITE_PATH")
        auth_mode = env.get("PARCOURS_AUTH_MODE", "local").strip().lower()
        if auth_mode not in ("local", "oidc"):
            msg = f"PARCOURS_AUTH_MODE must be 'local' or 'oidc', not {auth_mode!r}"
            raise ValueError(msg)
        raw_key = env.get("PARCOURS_JWT_PUBLIC_KEY_FILE")
        return cls(
            store="postgres" if store == "postgres" else "sqlite",
            data_dir=Path(env.get("PARCOURS_DATA_DIR", "data")),
            sqlite_path=Path(raw_sqlite) if raw_sqlite else None,
            postgres_host=env.get("POSTGRES_HOST", "127.0.0.1"),
            postgres_port=int(env.get("POSTGRES_PORT", "5432")),
            postgres_user=env.get("POSTGRES_USER", "postgres"),
            postgres_password=env.get("POSTGRES_PASSWORD", ""),
            postgres_dbname=env.get("POSTGRES_DBNAME", "parcours"),
            postgres_schema=env.get("POSTGRES_SCHEMA", "public"),
            api_host=env.get("PARCOURS_API_HOST", "127.0.0.1"),
            api_port=int(env.get("PARCOURS_API_PORT", "8000")),
            log_level=env.get("PARCOURS_LOG_LEVEL", "INFO").upper(),
            timezone=env.get("PARCOURS_TIMEZONE", "Europe/Paris"),
            poll_interval=float(env.get("PARCOURS_POLL_INTERVAL", "0.5")),
            projection_batch=int(env.get("PARCOURS_PROJECTION_BATCH", "2000")),
            rebuild_workers=max(1, int(env.get("PARCOURS_REBUILD_WORKERS", "2"))),
            health_max_lag=max(0, int(env.get("PARCOURS_HEALTH_MAX_LAG", "100000"))),
            identity_index_secret=env.get(
                "PARCOURS_IDENTITY_INDEX_SECRET", DEV_IDENTITY_INDEX_SECRET
            ),
            identity_master_key=env.get("PARCOURS_IDENTITY_MASTER_KEY", DEV_IDENTITY_MASTER_KEY),
            cle_pseudonymisation=env.get("PARCOURS_CLE_PSEUDONYMISATION", "").strip(),
            cle_points_controle=env.get("PARCOURS_CLE_POINTS_CONTROLE", "").strip(),
            auth_mode="oidc" if auth_mode == "oidc" else "local",
            jwt_secret=env.get("PARCOURS_JWT_SECRET", ""),
            jwt_issuer=env.get("PARCOURS_JWT_ISSUER", LOCAL_ISSUER),
            jwt_audience=env.get("PARCOURS_JWT_AUDIENCE", "parcours"),
            jwt_jwks_url=env.get("PARCOURS_JWT_JWKS_URL", ""),
            jwt_public_key_file=Path(raw_key) if raw_key else None,
            jwt_algorithms=tuple(
                a.strip()
                for a in env.get("PARCOURS_JWT_ALGORITHMS", "RS256,ES256").split(",")
                if a.strip()
            ),
            oidc_issuer=env.get("PARCOURS_OIDC_ISSUER", "").strip().rstrip("/"),
            oidc_client_id=env.get("PARCOURS_OIDC_CLIENT_ID", "").strip(),
            oidc_client_secret=env.get("PARCOURS_OIDC_CLIENT_SECRET", ""),
            oidc_redirect_uri=env.get("PARCOURS_OIDC_REDIRECT_URI", "").strip(),
            oidc_scopes=tuple(env.get("PARCOURS_OIDC_SCOPES", " ".join(OIDC_SCOPES)).split())
            or OIDC_SCOPES,
            session_secret=env.get("PARCOURS_SESSION_SECRET", "").strip(),
            rdvi_secrets=rdvi_secrets(env.get("PARCOURS_RDVI_SECRETS", "")),
            rdvi_retention_days=max(1, int(env.get("PARCOURS_RDVI_RETENTION_DAYS", "180"))),
            identity_retention_days=max(1, int(env.get("PARCOURS_IDENTITY_RETENTION_DAYS", "730"))),
        )

    def production_problems(self) -> list[str]:
        """Every reason these settings are unfit for production, each naming its variable:
        the one list that every entry point checks at start in oidc mode."""
        problems = []
        secrets = dict(
            zip(
                SECRET_VARIABLES,
                (
                    self.identity_master_key,
                    self.identity_index_secret,
                    self.cle_pseudonymisation,
                    self.session_secret,
                    self.cle_points_controle,
                ),
                strict=True,
            )
        )
        seen: dict[str, str] = {}
        for name, value in secrets.items():
            problem = secret_problem(value)
            if problem is None and value.strip().lower() in seen:
                problem = f"identique à {seen[value.strip().lower()]} (une valeur par secret)"
            seen.setdefault(value.strip().lower(), name)
            if problem:
                problems.append(f"{name} : {problem}")
        if self.jwt_secret:
            problems.append(
                "PARCOURS_JWT_SECRET : réservée au mode local, la production ne reconnaît que "
                "les clés publiques du fournisseur d'identité"
            )
        if not self.jwt_issuer.strip() or self.jwt_issuer == LOCAL_ISSUER:
            problems.append(
                f"PARCOURS_JWT_ISSUER : absent ou égal à la valeur locale « {LOCAL_ISSUER} » "
                "(l'« issuer » du fournisseur d'identité est attendu)"
            )
        if not self.jwt_audience.strip():
            problems.append("PARCOURS_JWT_AUDIENCE : vide")
        if not [a for a in self.jwt_algorithms if not a.upper().startswith("HS")]:
            problems.append(
                "PARCOURS_JWT_ALGORITHMS : aucun algorithme asymétrique (RS256, ES256…)"
            )
        if self.jwt_jwks_url:
            url = urlsplit(self.jwt_jwks_url)
            if url.scheme != "https" and url.hostname not in ("localhost", "127.0.0.1", "::1"):
                problems.append(
                    "PARCOURS_JWT_JWKS_URL : https attendu (les clés qui signent les jetons "
                    "ne doivent pas pouvoir être substituées en chemin)"
                )
        elif self.jwt_public_key_file is not None:
            if not os.access(self.jwt_public_key_file, os.R_OK):
                problems.append(
                    f"PARCOURS_JWT_PUBLIC_KEY_FILE : {self.jwt_public_key_file} illisible"
                )
        else:
            problems.append(
                "PARCOURS_JWT_JWKS_URL ou PARCOURS_JWT_PUBLIC_KEY_FILE : aucune clé publique "
                "du fournisseur d'identité"
            )
        problems.extend(self._oidc_login_problems())
        problems.extend(
            f"PARCOURS_RDVI_SECRETS : le secret de « {label} » est trop court "
            f"(au moins {2 * SECRET_BYTES} caractères aléatoires)"
            for label, secret in self.rdvi_secrets
            if len(secret) < 2 * SECRET_BYTES
        )
        return problems

    def _oidc_login_problems(self) -> list[str]:
        """The screens' provider, when one is configured: complete, and reached over https."""
        if not self.oidc_issuer:
            return []
        problems = [
            f"{name} : absent (le fournisseur PARCOURS_OIDC_ISSUER est configuré)"
            for name, value in (
                ("PARCOURS_OIDC_CLIENT_ID", self.oidc_client_id),
                ("PARCOURS_OIDC_CLIENT_SECRET", self.oidc_client_secret),
            )
            if not value.strip()
        ]
        url = urlsplit(self.oidc_issuer)
        if url.scheme != "https" and url.hostname not in ("localhost", "127.0.0.1", "::1"):
            problems.append("PARCOURS_OIDC_ISSUER : https attendu")
        if "openid" not in self.oidc_scopes:
            problems.append("PARCOURS_OIDC_SCOPES : « openid » attendu")
        return problems

    def check_start(self) -> None:
        """Refuse production settings with any problem (raises `UnsafeSettings`); in local
        mode, say once per process that development keys are in use."""
        global _warned_development_keys
        if self.auth_mode == "oidc":
            problems = self.production_problems()
            if problems:
                raise UnsafeSettings(problems)
            return
        development = [
            name
            for name, value, default in (
                ("PARCOURS_IDENTITY_MASTER_KEY", self.identity_master_key, DEV_IDENTITY_MASTER_KEY),
                (
                    "PARCOURS_IDENTITY_INDEX_SECRET",
                    self.identity_index_secret,
                    DEV_IDENTITY_INDEX_SECRET,
                ),
            )
            if value == default
        ]
        if development and not _warned_development_keys:
            _warned_development_keys = True
            structlog.get_logger("settings").warning(
                "secrets.cles_de_developpement",
                message="mode local : clés de développement en usage, refusées en production",
                variables=development,
            )

    @property
    def sqlite_file(self) -> Path:
        return self.sqlite_path or self.data_dir / "parcours.sqlite"

    def postgres_conninfo(self) -> dict[str, Any]:
        """Keyword arguments of `psycopg.connect` for the configured database."""
        return {
            "host": self.postgres_host,
            "port": self.postgres_port,
            "user": self.postgres_user,
            "password": self.postgres_password,
            "dbname": self.postgres_dbname,
        }

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's own variables, derived from ours."""
        if self.store == "sqlite":
            private_sqlite(self.sqlite_file, self.data_dir)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_file),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "adapters.eventlog.recorders:SQLiteRecorder",
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": self.postgres_host,
            "POSTGRES_PORT": str(self.postgres_port),
            "POSTGRES_USER": self.postgres_user,
            "POSTGRES_PASSWORD": self.postgres_password,
            "POSTGRES_DBNAME": self.postgres_dbname,
            "POSTGRES_SCHEMA": self.postgres_schema,
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_PRE_PING": "y",
            "APPLICATION_RECORDER_TOPIC": "adapters.eventlog.recorders:PostgresRecorder",
        }


def rdvi_secrets(raw: str) -> tuple[tuple[str, str], ...]:
    """`PARCOURS_RDVI_SECRETS`: `label=secret` entries separated by commas or spaces, one per
    rdv-insertion endpoint (organisation); a label given twice has two valid secrets (rotation)."""
    pairs = []
    for entry in raw.replace(",", " ").split():
        label, sep, secret = entry.partition("=")
        if not sep or not label.strip() or not secret:
            msg = f"PARCOURS_RDVI_SECRETS: « libellé=secret » attendu, pas {label.strip()!r}…"
            raise ValueError(msg)
        pairs.append((label.strip(), secret))
    return tuple(pairs)


def refuse_unsafe_start(settings: Settings) -> None:
    """Every entry point's first step: production settings with a problem stop the process
    (message on stderr, exit status 2) before anything listens or writes."""
    try:
        settings.check_start()
    except UnsafeSettings as e:
        print(e, file=sys.stderr)
        raise SystemExit(2) from None


def ensure_postgres_database(settings: Settings) -> None:
    """Create the configured PostgreSQL database (and schema) when missing, so a first start
    needs no manual step."""
    if settings.store != "postgres":
        return
    import psycopg
    from psycopg import sql

    params = {
        "host": settings.postgres_host,
        "port": settings.postgres_port,
        "user": settings.postgres_user,
        "password": settings.postgres_password,
        "autocommit": True,
        "connect_timeout": 10,
    }
    with psycopg.connect(dbname="postgres", **params) as conn:  # type: ignore[arg-type]
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.postgres_dbname,)
        ).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.postgres_dbname))
            )
    with psycopg.connect(dbname=settings.postgres_dbname, **params) as conn:  # type: ignore[arg-type]
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.postgres_schema)
            )
        )
