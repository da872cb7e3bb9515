"""The command line's conventions, through the real installed `parcours` command in a
subprocess: the exit codes (0 done, 1 a problem found, 2 a user's mistake with one French line
and no traceback, 3 the store unreachable), `--version`, the French flags with their old English
names still parsing but hidden, `--json` on the commands that print data, and every CSV a
command writes starting with the byte-order mark and separated by `;`."""

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from adapters.eventlog.store import Parcours
from adapters.settings import Settings
from tests.cohort_history import ALL
from tests.e2e.helpers import process_env

ROOT = Path(__file__).resolve().parents[2]
PARCOURS = str(Path(sys.executable).parent / "parcours")
BOM = b"\xef\xbb\xbf"


def run(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARCOURS, *args],
        cwd=ROOT,
        env=process_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def user_mistake(done: subprocess.CompletedProcess[str], says: str) -> None:
    """Exit 2, one line naming the mistake on stderr, no traceback, nothing on stdout."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("parcours"), last
    assert says in last, last


def test_version_prints_the_package_version(sqlite_settings: Settings) -> None:
    done = run(sqlite_settings, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"parcours {version('parcours')}"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["stats", "taux", "--pas-un-drapeau"], "unrecognized arguments"),
        (["stats", "taux"], "--annee"),
        (["stats", "taux", "--annee", "2024", "--sortie", "t.txt"], ".txt"),
        (["cohort", "extract", "absente", "--sortie", "x.csv"], "absente"),
        (["flux", "import", "/nulle/part.xml"], "/nulle/part.xml"),
        (["flux", "rapport", "pas-un-uuid"], "pas-un-uuid"),
        (["finance", "simulate", "--bareme", "/nulle/part.toml", "--periode", "2021"], "barème"),
        (
            [
                "finance",
                "structure",
                "s1",
                "--nom",
                "S",
                "--type",
                "aave",
                "--depuis",
                "0001-01-01",
            ],
            "effective_on",
        ),
    ],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else None,
)
def test_a_users_mistake_exits_2_with_one_line_and_no_traceback(
    settings: Settings, args: list[str], says: str
) -> None:
    user_mistake(run(settings, *args), says)


def test_a_rejected_import_exits_1(settings: Settings, tmp_path: Path) -> None:
    """The operation ran and found a problem: 1, the report printed (also as JSON)."""
    bad = tmp_path / "flux.xml"
    bad.write_text("<pas-un-flux/>")
    done = run(settings, "flux", "import", str(bad), "--json")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [rapport] = json.loads(done.stdout)
    assert rapport["statut"] == "rejete"


def test_an_unreachable_store_exits_3(sqlite_settings: Settings, tmp_path: Path) -> None:
    closed = run(sqlite_settings, "status", PARCOURS_STORE="postgres", POSTGRES_PORT="1")
    assert closed.returncode == 3, closed.stderr
    assert "Traceback" not in closed.stderr
    assert closed.stderr.strip().splitlines()[-1].startswith("parcours: stockage injoignable")
    blocker = tmp_path / "un-fichier"
    blocker.write_text("")
    nowhere = run(sqlite_settings, "status", PARCOURS_SQLITE_PATH=str(blocker / "p.sqlite"))
    assert nowhere.returncode == 3, nowhere.stderr
    assert "Traceback" not in nowhere.stderr


def test_old_english_flags_still_parse_but_are_hidden(sqlite_settings: Settings) -> None:
    old = run(sqlite_settings, "token", "--sub", "moi", "--role", "agent", "--hours", "1")
    new = run(sqlite_settings, "token", "--agent", "moi", "--role", "agent", "--heures", "1")
    assert old.returncode == new.returncode == 0, old.stderr
    assert old.stdout.count(".") == 2  # a JWT
    helps = run(sqlite_settings, "token", "--help").stdout
    assert "--agent" in helps
    assert "--heures" in helps
    assert "--sub" not in helps
    assert "--hours" not in helps
    stats = run(sqlite_settings, "stats", "--help").stdout
    assert "--connu-le" in stats
    assert "--known-at" not in stats
    assert "--csv" not in stats


def test_commands_that_print_data_print_json(settings: Settings, tmp_path: Path) -> None:
    app = Parcours(settings)
    app.append_many(ALL)
    app.close()
    status = json.loads(run(settings, "status", "--json").stdout)
    assert status["status"] == "ok"
    assert status["log_position"] == len(ALL)
    tableau = json.loads(run(settings, "stats", "taux", "--annee", "2024", "--json").stdout)
    assert tableau["indicateur"] == "taux-et-delais"
    assert tableau["lignes"]
    worklist = run(settings, "stats", "a-traiter", "--date", "2024-12-31", "--json")
    assert isinstance(json.loads(worklist.stdout), list), worklist.stderr
    defined = run(settings, "cohort", "define", "c", "--entree-du", "2024-01-01")
    assert defined.returncode == 0, defined.stderr
    assert set(json.loads(run(settings, "cohort", "list", "--json").stdout)) == {"c"}
    assert json.loads(run(settings, "webhooks", "list", "--json").stdout) == []


def test_every_csv_a_command_writes_starts_with_the_bom(settings: Settings, tmp_path: Path) -> None:
    app = Parcours(settings)
    app.append_many(ALL)
    app.close()
    written = {
        "table": ["stats", "taux", "--annee", "2024"],
        "worklist": ["stats", "a-traiter", "--date", "2024-12-31"],
        "transitions": ["cohort", "transitions", "c", "--silencieux"],
        "extract": ["cohort", "extract", "c", "--silencieux"],  # CSV from the extension
    }
    assert run(settings, "cohort", "define", "c").returncode == 0
    schedules = ROOT / "schedules"
    adopted = run(
        settings,
        "finance",
        "adopt",
        "--bareme",
        str(schedules / "val-de-marne-2022.toml"),
        "--motif",
        "convention",
    )
    assert adopted.returncode == 0, adopted.stderr
    written["simulation"] = [
        "finance",
        "simulate",
        "--bareme",
        str(schedules / "val-de-marne-2022.toml"),
        "--periode",
        "2024",
    ]
    declared = run(
        settings,
        "finance",
        "structure",
        "ccas-a",
        "--nom",
        "CCAS",
        "--type",
        "ccas",
        "--depuis",
        "2020-01-01",
    )
    assert declared.returncode == 0, declared.stderr
    written["statement"] = ["finance", "statement", "ccas-a", "2024"]
    for name, args in written.items():
        out = tmp_path / f"{name}.csv"
        done = run(settings, *args, "--sortie", str(out))
        assert done.returncode == 0, (name, done.stderr)
        data = out.read_bytes()
        assert data.startswith(BOM), name
        assert ";" in data.decode("utf-8-sig").splitlines()[0], name
