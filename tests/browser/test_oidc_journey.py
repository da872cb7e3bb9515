"""An agent's whole journey in a real browser, logged in through the OIDC provider (issue 16):
granted a right in the registry, the agent logs in through the provider, finds a person by name
with the header's search, plans a RDV, records its outcome and signs a CER through the step
forms; the worklist no longer lists the case as late for its first RDV, and the timeline shows
each step with the agent as its author. Both stores."""

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import msgspec
import pytest

from adapters.eventlog.store import Parcours
from adapters.identity import Identite, IdentityStore
from adapters.settings import SECRET_VARIABLES, Settings
from api.http.steps import ENTREE, STEPS
from api.services.cases import handle
from api.services.commands import Author
from tests.browser.test_screens import accessible
from tests.browser.test_step_forms import assert_latest_step, open_form
from tests.e2e.helpers import ROOT, Server, cli_env
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

AGENT = {
    "sub": "pc-agent-51",
    "email": "Lea.Moreau@ccas-creteil.fr",
    "given_name": "Léa",
    "usual_name": "Moreau",
    "siret": "26940028800011",
}
LATE = "Premier RDV d'accompagnement en retard"
SECRETS = {name: secrets.token_hex(32) for name in SECRET_VARIABLES}
"""The server's secrets (oidc mode refuses the development ones); the test seals the person's
identity under the same."""


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    found = Provider().start()
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def oidc_server(
    chromium: object,
    store_settings: Settings,
    provider: Provider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """`parcours serve --avec-projection` in oidc mode, its screens' provider the test's."""
    env = {
        "PARCOURS_AUTH_MODE": "oidc",
        "PARCOURS_JWT_SECRET": "",
        "PARCOURS_JWT_ISSUER": provider.issuer,
        "PARCOURS_JWT_AUDIENCE": CLIENT_ID,
        "PARCOURS_JWT_JWKS_URL": f"{provider.issuer}/jwks",
        "PARCOURS_OIDC_ISSUER": provider.issuer,
        "PARCOURS_OIDC_CLIENT_ID": CLIENT_ID,
        "PARCOURS_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PARCOURS_POLL_INTERVAL": "0.1",
        **SECRETS,
    }
    log = tmp_path_factory.mktemp("oidc") / "server.log"
    served = Server(store_settings, log, "--avec-projection", PARCOURS_LOG_LEVEL="WARNING", **env)
    try:
        yield served
    finally:
        served.kill_if_running()


def _grant(settings: Settings) -> None:
    """`parcours droits accorder …`, as an administrator types it."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", "droits", "accorder", "--agent",
         AGENT["email"].lower(), "--role", "agent", "--structure", "ccas-creteil",
         "--motif", "Agent d'accueil du CCAS"],
        cwd=ROOT,
        env={**os.environ, **cli_env(settings)},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def _late_case(settings: Settings, server: Server) -> str:
    """A person oriented to the CCAS 190 days ago, no RDV since; the vault knows her.
    Recorded through the use cases, as the flux and the orientation service would."""
    today = date.today()
    app = Parcours(settings)
    try:
        case_id = uuid4()
        entree = {
            "effective_on": (today - timedelta(days=200)).isoformat(),
            "numero_dossier": "CAF-7654321",
            "organisme_payeur": "caf",
            "date_flux": (today - timedelta(days=199)).isoformat(),
            "date_reception_flux": (today - timedelta(days=198)).isoformat(),
            "soumis_droits_devoirs": True,
        }
        orientation = {
            "effective_on": (today - timedelta(days=190)).isoformat(),
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
            "mode": "decidee",
        }
        steps = {s.slug: s for s in STEPS}
        for command, user in [
            (msgspec.convert(entree, ENTREE.command), "flux-caf"),
            (msgspec.convert(orientation, steps["orientation"].command), "orienteur-cd94"),
        ]:
            handle(app, case_id, command, Author(user=user, structure_id=None, request_id="t"))
    finally:
        app.close()
    vault = IdentityStore(
        msgspec.structs.replace(
            settings,
            identity_master_key=SECRETS["PARCOURS_IDENTITY_MASTER_KEY"],
            identity_index_secret=SECRETS["PARCOURS_IDENTITY_INDEX_SECRET"],
        )
    )
    person = Identite(
        organisme="CAF",
        matricule="7654321",
        nom="Lefèvre",
        prenoms=["Maëlle"],
        date_naissance=date(1990, 5, 17),
        commune="Créteil",
    )
    with vault.db.transaction() as tx:
        vault.insert(tx, [(vault.blind_index("CAF", "7654321", None), case_id, person)])
    return str(case_id)


def _worklist_motifs(page: Any, server: Server, case_id: str) -> list[str]:
    page.goto(f"{server.base_url}/ecrans/a-traiter")
    rows = page.locator("tbody tr").filter(
        has=page.locator(f'a[href="/ecrans/dossiers/{case_id}"]')
    )
    return [row.locator("td").first.inner_text() for row in rows.all()]


def _until(check: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout} s")
        time.sleep(0.5)


def test_an_agent_logs_in_through_the_provider_finds_a_person_and_follows_her_path(
    chromium: Any, oidc_server: Server, provider: Provider, store_settings: Settings
) -> None:
    server = oidc_server
    provider.tamper = False
    provider.user = dict(AGENT)
    _grant(store_settings)
    case_id = _late_case(store_settings, server)
    today = date.today()

    page = chromium.new_page(locale="fr-FR")
    page.goto(f"{server.base_url}/ecrans/connexion")
    page.get_by_role("button", name="Se connecter avec ProConnect").click()
    page.wait_for_url("**/ecrans/a-traiter")
    assert "Léa Moreau" in page.locator("header").inner_text()
    _until(lambda: LATE in _worklist_motifs(page, server, case_id), "late in the worklist")

    page.get_by_role("searchbox", name="Rechercher une personne").fill("lefevre mae")
    page.get_by_role("searchbox", name="Rechercher une personne").press("Enter")
    page.wait_for_url("**/ecrans/recherche?q=lefevre+mae")
    link = page.locator("tbody th a")
    assert link.all_inner_texts() == ["Lefèvre Maëlle"]
    accessible(page)
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}")

    open_form(page, "Planifier un RDV (invitation ou convocation)", case_id, "rdv")
    page.fill("#rdv-effective_on", (today - timedelta(days=10)).isoformat())
    page.select_option("#rdv-type_rdv", "premier_accompagnement")
    page.select_option("#rdv-mode", "convocation")
    page.fill("#rdv-date_rdv", (today - timedelta(days=3)).isoformat())
    page.locator("#rdv-date_rdv").press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=rdv*")
    assert_latest_step(page, "RDV planifié", AGENT["sub"])

    open_form(
        page, "Enregistrer l'issue d'un RDV (seen, noshow, excused, revoked)", case_id, "issue-rdv"
    )
    page.fill("#issue-rdv-effective_on", (today - timedelta(days=3)).isoformat())
    page.fill("#issue-rdv-numero", "1")
    page.select_option("#issue-rdv-issue", "seen")
    page.locator("#issue-rdv-numero").press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=issue-rdv*")
    assert_latest_step(page, "Issue de RDV enregistrée", AGENT["sub"])

    open_form(page, "Enregistrer la signature d'un premier CER", case_id, "cer")
    page.fill("#cer-effective_on", (today - timedelta(days=1)).isoformat())
    page.fill("#cer-date_debut", today.isoformat())
    page.select_option("#cer-duree_mois", "6")
    page.locator("#cer-date_debut").press("Enter")
    page.wait_for_url(f"**/ecrans/dossiers/{case_id}?ok=cer*")
    assert_latest_step(page, "CER signé", AGENT["sub"])
    rows = page.locator("#chronologie ~ table tbody tr").all_inner_texts()
    for step in ("CER signé", "Issue de RDV enregistrée", "RDV planifié"):
        (row,) = [r for r in rows if step in r]
        assert AGENT["sub"] in row, row
        assert "ccas-creteil" in row, row
    accessible(page)

    _until(lambda: LATE not in _worklist_motifs(page, server, case_id), "solved in the worklist")
    page.close()
