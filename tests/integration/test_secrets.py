"""Production refuses to start on development or weak secrets; data and key files are
owner-only; the local signing key is one key whatever the number of processes creating it; keys
derived with HKDF leave what was sealed before readable and erasable."""

import hashlib
import hmac
import logging
import multiprocessing
import os
import re
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import msgspec
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi.testclient import TestClient

from adapters.eventlog.store import Parcours
from adapters.identity import MASTER_INFO, Identite, IdentityStore, derive
from adapters.pseudonym_key import stable_key
from adapters.settings import SECRET_VARIABLES, Settings, UnsafeSettings
from adapters.tokens import local_key_file, local_secret
from api.cli.main import main
from api.http.app import create_app
from tests.e2e.helpers import ROOT

PLACEHOLDER = "a-remplacer-par-64-caracteres-hexadecimaux"


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    """A complete production environment: three fresh secrets and a provider's public key."""
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "PARCOURS_STORE": "sqlite",
        "PARCOURS_DATA_DIR": str(tmp_path / "data"),
        "PARCOURS_AUTH_MODE": "oidc",
        "PARCOURS_JWT_ISSUER": "https://idp.departement.example/realms/rsa",
        "PARCOURS_JWT_PUBLIC_KEY_FILE": str(pem),
        **{name: secrets.token_hex(32) for name in SECRET_VARIABLES},
    }


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No store or secret variable of the test run's own; the logging set-up `main` installs
    (on a stream captured for this test only) undone afterwards."""
    for name in [n for n in os.environ if n.startswith(("PARCOURS_", "POSTGRES_"))]:
        monkeypatch.delenv(name)
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def _bad_values(name: str) -> list[tuple[str | None, str]]:
    """(value, words of the refusal) for a secret: unset, empty, development default,
    the `.env.example` placeholder, too short, a repeated pattern."""
    development = {
        "PARCOURS_IDENTITY_MASTER_KEY": "dev-only-master-key",
        "PARCOURS_IDENTITY_INDEX_SECRET": "dev-only-index-secret",
    }
    return [
        (None, "absente"),
        ("", "absente"),
        *([(development[name], "développement")] if name in development else []),
        (PLACEHOLDER, "hexadécimal"),
        (secrets.token_hex(16), "trop courte : 16 octets"),
        ("0123456789abcdef" * 4, "pas aléatoire"),
    ]


@pytest.mark.parametrize("name", SECRET_VARIABLES)
def test_production_names_each_missing_or_weak_secret(
    production: dict[str, str], name: str
) -> None:
    assert Settings.from_env(production).production_problems() == []
    for value, why in _bad_values(name):
        env = {k: v for k, v in production.items() if k != name}
        if value is not None:
            env[name] = value
        problems = Settings.from_env(env).production_problems()
        assert len(problems) == 1, (value, problems)
        assert problems[0].startswith(f"{name} : "), (value, problems)
        assert why in problems[0], (value, problems)


def test_production_refuses_one_value_for_two_secrets(production: dict[str, str]) -> None:
    same = {**production, "PARCOURS_IDENTITY_INDEX_SECRET": production[SECRET_VARIABLES[0]]}
    assert Settings.from_env(same).production_problems() == [
        "PARCOURS_IDENTITY_INDEX_SECRET : identique à PARCOURS_IDENTITY_MASTER_KEY "
        "(une valeur par secret)"
    ]


def test_production_refuses_an_incomplete_provider_configuration(
    production: dict[str, str],
) -> None:
    cases: list[tuple[dict[str, str], str]] = [
        ({"PARCOURS_JWT_ISSUER": ""}, "PARCOURS_JWT_ISSUER"),
        ({"PARCOURS_JWT_ISSUER": "parcours-local"}, "PARCOURS_JWT_ISSUER"),
        ({"PARCOURS_JWT_AUDIENCE": " "}, "PARCOURS_JWT_AUDIENCE"),
        ({"PARCOURS_JWT_PUBLIC_KEY_FILE": ""}, "PARCOURS_JWT_JWKS_URL ou"),
        ({"PARCOURS_JWT_PUBLIC_KEY_FILE": "/nonexistent/idp.pem"}, "illisible"),
        ({"PARCOURS_JWT_JWKS_URL": "http://idp.example/certs"}, "https attendu"),
        ({"PARCOURS_JWT_SECRET": "x" * 40}, "PARCOURS_JWT_SECRET"),
        ({"PARCOURS_JWT_ALGORITHMS": "HS256"}, "PARCOURS_JWT_ALGORITHMS"),
    ]
    for change, named in cases:
        problems = Settings.from_env({**production, **change}).production_problems()
        assert len(problems) == 1, (change, problems)
        assert named in problems[0], (change, problems)


ENTRY_POINTS = [
    ["serve"],
    ["project", "--une-fois"],
    ["rebuild"],
    ["generate", "--personnes", "1"],
    ["demo", "--personnes", "1"],
    ["flux", "import", "absent.xml"],
    ["token", "--agent", "u", "--role", "admin"],
]


@pytest.mark.usefixtures("clean_environ")
@pytest.mark.parametrize("argv", ENTRY_POINTS, ids=lambda argv: argv[0])
def test_every_command_refuses_production_without_secrets_before_writing(
    production: dict[str, str],
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in production.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PARCOURS_IDENTITY_MASTER_KEY")
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "PARCOURS_IDENTITY_MASTER_KEY : absente" in err
    assert "INDEX_SECRET" not in err
    assert "PSEUDONYMISATION" not in err
    assert not Path(production["PARCOURS_DATA_DIR"]).exists()


def test_the_application_itself_refuses_production_without_secrets(
    production: dict[str, str],
) -> None:
    weak = {**production, "PARCOURS_CLE_PSEUDONYMISATION": PLACEHOLDER}
    with pytest.raises(UnsafeSettings, match="PARCOURS_CLE_PSEUDONYMISATION"):
        Parcours(Settings.from_env(weak))
    assert not Path(production["PARCOURS_DATA_DIR"]).exists()


def test_env_example_placeholders_are_refused_and_compose_requires_the_secrets(
    production: dict[str, str],
) -> None:
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example["PARCOURS_AUTH_MODE"] == "oidc"
    problems = Settings.from_env({**production, **example}).production_problems()
    for name in SECRET_VARIABLES:
        assert any(p.startswith(f"{name} : ") for p in problems), (name, problems)
    compose = (ROOT / "docker-compose.yml").read_text()
    for name in (*SECRET_VARIABLES, "POSTGRES_PASSWORD"):
        uses = re.findall(rf"\b{name}: (.*)", compose)
        assert uses, name
        assert all(u.startswith(f"${{{name}:?") for u in uses), (name, uses)


def test_production_server_process_exits_naming_the_secret(production: dict[str, str]) -> None:
    """What docker compose runs, by hand: `parcours serve` in oidc mode, one secret left as
    `.env.example` gives it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARCOURS_", "POSTGRES_"))}
    refused = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "serve"],
        cwd=ROOT,
        env={**env, **production, "PARCOURS_IDENTITY_INDEX_SECRET": PLACEHOLDER},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr
    assert "PARCOURS_IDENTITY_INDEX_SECRET : pas en hexadécimal" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not Path(production["PARCOURS_DATA_DIR"]).exists()


def test_production_with_real_secrets_starts_and_answers_health(
    production: dict[str, str],
) -> None:
    with TestClient(create_app(Settings.from_env(production))) as client:
        health = client.get("/health")
    assert health.status_code == 200, health.text


@pytest.mark.usefixtures("clean_environ")
def test_local_mode_needs_no_secret_and_says_development_keys_are_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARCOURS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr("adapters.settings._warned_development_keys", False)
    main(["token", "--agent", "dev", "--role", "admin"])
    out, err = capsys.readouterr()
    assert out.count(".") == 2  # a JWT
    warnings = [line for line in err.splitlines() if "cles_de_developpement" in line]
    assert len(warnings) == 1, err
    assert "PARCOURS_IDENTITY_MASTER_KEY" in warnings[0], err


# --- owner-only files -----------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_files_and_data_dir_are_owner_only_even_when_left_open(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"PARCOURS_DATA_DIR": str(tmp_path / "data"), "PARCOURS_JWT_SECRET": "s" * 32}
    )
    previous = os.umask(0o022)
    try:
        app = Parcours(settings)
        IdentityStore(settings)  # the side tables, on their own connection
        database = settings.sqlite_file
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(f.exists() for f in files), list(settings.data_dir.iterdir())
        assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert _mode(settings.data_dir) == 0o700
        app.close()

        # As an older version left them: readable by everyone; tightened at the next start.
        left = [f for f in files if f.exists()]
        for f in left:
            f.chmod(0o644)
        settings.data_dir.chmod(0o755)
        Parcours(settings).close()
        assert {f.name: _mode(f) for f in left} == {f.name: 0o600 for f in left}
        assert _mode(settings.data_dir) == 0o700
    finally:
        os.umask(previous)


def test_key_files_are_owner_only(tmp_path: Path) -> None:
    settings = Settings.from_env({"PARCOURS_DATA_DIR": str(tmp_path / "data")})
    previous = os.umask(0o022)
    try:
        local_secret(settings)
        stable_key(settings, {})
    finally:
        os.umask(previous)
    path = local_key_file(settings)
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert _mode(settings.data_dir) == 0o700
    assert _mode(settings.data_dir / "cle_pseudonymisation.key") == 0o600
    path.chmod(0o644)
    local_secret(settings)
    assert _mode(path) == 0o600


# --- keys created once by processes starting together ---------------------------------------

ROUNDS = 50


def _create_keys(root: str, barrier: "multiprocessing.synchronize.Barrier") -> list[str]:
    """Each round, every process asks at the same moment for both keys of a new data dir."""
    keys = []
    for n in range(ROUNDS):
        settings = Settings.from_env({"PARCOURS_DATA_DIR": f"{root}/{n}"})
        barrier.wait(timeout=60)
        keys.append(f"{local_secret(settings)} {stable_key(settings, {}).hex()}")
    return keys


def _worker(root: str, barrier: "multiprocessing.synchronize.Barrier", out: "multiprocessing.Queue[object]") -> None:  # fmt: skip
    try:
        out.put(_create_keys(root, barrier))
    except Exception as e:  # reported to the test, which fails on it
        out.put(repr(e))


def test_four_processes_creating_the_keys_together_get_the_same_keys(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    out: multiprocessing.Queue[object] = context.Queue()
    processes = [
        context.Process(target=_worker, args=(str(tmp_path), barrier, out)) for _ in range(4)
    ]
    for p in processes:
        p.start()
    results = [out.get(timeout=60) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    assert all(isinstance(r, list) for r in results), results
    for n in range(ROUNDS):
        seen = {r[n] for r in results}  # type: ignore[index]
        on_disk = local_secret(Settings.from_env({"PARCOURS_DATA_DIR": f"{tmp_path}/{n}"}))
        assert len(seen) == 1, (n, results)
        assert seen.pop().split()[0] == on_disk, (n, results)


# --- key derivation -------------------------------------------------------------------------

LEGACY_SECRET = "a département secret set before HKDF"


def _seal_as_before(store: IdentityStore, identite: Identite) -> str:
    """One person sealed and indexed exactly as the code did before HKDF: the master key was
    SHA-256(b"master:" + secret), the person key wrapped without a version byte."""
    case_id = uuid4()
    index_key = hashlib.sha256(b"index:" + LEGACY_SECRET.encode()).digest()
    message = f"{identite.organisme}|{identite.matricule}|".encode()
    blind_hex = hmac.digest(index_key, message, "sha256").hex()
    master = AESGCM(hashlib.sha256(b"master:" + LEGACY_SECRET.encode()).digest())
    person_key = os.urandom(32)
    nonce, key_nonce = os.urandom(12), os.urandom(12)
    sealed = AESGCM(person_key).encrypt(nonce, msgspec.json.encode(identite), case_id.bytes)
    wrapped = master.encrypt(key_nonce, person_key, case_id.bytes)
    with store.db.transaction() as tx:
        tx.execute(
            "INSERT INTO identite VALUES (%s,%s,%s,%s)", (case_id.hex, blind_hex, nonce, sealed)
        )
        tx.execute("INSERT INTO identite_cle VALUES (%s,%s,%s)", (case_id.hex, key_nonce, wrapped))
    return case_id.hex


def test_identities_sealed_before_hkdf_are_still_found_read_and_erased(
    settings: Settings,
) -> None:
    settings = msgspec.structs.replace(
        settings, identity_master_key=LEGACY_SECRET, identity_index_secret=LEGACY_SECRET
    )
    store = IdentityStore(settings)
    before = Identite(organisme="caf", matricule="0123456", nom="Durand", prenoms=["Anne"])
    old_id = _seal_as_before(store, before)

    # New seals use the HKDF master key, marked with their version.
    new_id = uuid4()
    blind = store.blind_index("caf", "7654321", None)
    with store.db.transaction() as tx:
        store.insert(tx, [(blind, new_id, Identite(organisme="caf", matricule="7654321"))])
        (key_nonce, wrapped), *_ = tx.execute(
            "SELECT nonce, cle FROM identite_cle WHERE case_id = %s", (new_id.hex,)
        )
    wrapped = bytes(wrapped)
    assert wrapped[:1] == b"\x02"
    hkdf_master = AESGCM(derive(LEGACY_SECRET, MASTER_INFO))
    assert len(hkdf_master.decrypt(bytes(key_nonce), wrapped[1:], new_id.bytes)) == 32

    # The old person: found by the same blind index, read, refreshed, erased.
    case = UUID(old_id)
    with store.db.transaction() as tx:
        assert store.find(tx, [store.blind_index("caf", "0123456", None)]) == {
            store.blind_index("caf", "0123456", None): case
        }
    assert store.read(case) == before
    after = msgspec.structs.replace(before, commune="94028")
    with store.db.transaction() as tx:
        assert store.refresh(tx, [(case, after)]) == 1
    assert store.read(case) == after
    assert store.erase(case)
    assert store.read(case) is None
    assert store.read(new_id) == Identite(organisme="caf", matricule="7654321")
