"""Configuration, read once from the environment (every variable is listed in the README)."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

Store = Literal["sqlite", "postgres"]
AuthMode = Literal["local", "oidc"]


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
    health_max_lag: int = 10_000
    """Processes folding the log in a full rebuild on PostgreSQL (one per core)."""
    identity_index_secret: str = "dev-only-index-secret"  # noqa: S105 (development default)
    """Département secret of the blind index (HMAC of organisme, file number and NIR)."""
    identity_master_key: str = "dev-only-master-key"
    """Wraps each person's identity key; set both secrets in production."""
    auth_mode: AuthMode = "local"
    jwt_secret: str = ""
    jwt_issuer: str = "parcours-local"
    jwt_audience: str = "parcours"
    jwt_jwks_url: str = ""
    jwt_public_key_file: Path | None = None
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")

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
            health_max_lag=max(0, int(env.get("PARCOURS_HEALTH_MAX_LAG", "10000"))),
            identity_index_secret=env.get(
                "PARCOURS_IDENTITY_INDEX_SECRET", "dev-only-index-secret"
            ),
            identity_master_key=env.get("PARCOURS_IDENTITY_MASTER_KEY", "dev-only-master-key"),
            auth_mode="oidc" if auth_mode == "oidc" else "local",
            jwt_secret=env.get("PARCOURS_JWT_SECRET", ""),
            jwt_issuer=env.get("PARCOURS_JWT_ISSUER", "parcours-local"),
            jwt_audience=env.get("PARCOURS_JWT_AUDIENCE", "parcours"),
            jwt_jwks_url=env.get("PARCOURS_JWT_JWKS_URL", ""),
            jwt_public_key_file=Path(raw_key) if raw_key else None,
            jwt_algorithms=tuple(
                a.strip()
                for a in env.get("PARCOURS_JWT_ALGORITHMS", "RS256,ES256").split(",")
                if a.strip()
            ),
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
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_file),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "adapters.recorders:SQLiteRecorder",
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
            "APPLICATION_RECORDER_TOPIC": "adapters.recorders:PostgresRecorder",
        }


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
